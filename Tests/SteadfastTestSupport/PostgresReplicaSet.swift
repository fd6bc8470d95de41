import Foundation

/// A primary and streaming standbys on 127.0.0.1 for failover tests: each a real PostgreSQL
/// (see ``PostgresServer``), the standbys made with `pg_basebackup -R`. With `synchronous`,
/// the primary waits for a standby's flush before acknowledging a commit
/// (`synchronous_commit = on`, `synchronous_standby_names = 'ANY 1 (...)'`), so no
/// acknowledged commit can be lost when the primary dies.
public final class PostgresReplicaSet: Sendable {
    /// Every server, the initial primary first.
    public let servers: [PostgresServer]
    public let names: [String]

    public static func start(standbys: Int = 1, synchronous: Bool = true) async throws -> PostgresReplicaSet {
        let names = (0...standbys).map { "pg\($0)" }
        let standbyNames = names.dropFirst().joined(separator: ", ")
        let primary = try await PostgresServer.start(settings: [
            "wal_level": "replica",
            "max_wal_senders": "10",
            "wal_keep_size": "'256MB'",
            "hot_standby": "on",
            "wal_log_hints": "on",
            // Process crashes (what the tests inject) keep the OS page cache, so fsync may stay
            // off for speed; synchronous_commit may not: it is what makes acknowledgement safe.
            "synchronous_commit": "on",
            "synchronous_standby_names": synchronous ? "'ANY 1 (\(standbyNames))'" : "''",
            "wal_retrieve_retry_interval": "'200ms'",
        ])
        var servers = [primary]
        for name in names.dropFirst() {
            servers.append(try await PostgresServer.standby(of: primary, name: name))
        }
        let set = PostgresReplicaSet(servers: servers, names: names)
        try await set.waitUntilStreaming(standbys: standbys)
        return set
    }

    init(servers: [PostgresServer], names: [String]) {
        self.servers = servers
        self.names = names
    }

    public var primary: PostgresServer { servers[0] }

    /// A libpq-style multi-host URL naming every server.
    public func url(database: String, attributes: String = "read-write") -> String {
        let hosts = servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        return "postgres://postgres@\(hosts)/\(database)?target_session_attrs=\(attributes)"
    }

    /// Creates a database on `primary` and waits until the standbys have it.
    public func createDatabase(on primary: PostgresServer? = nil, prefix: String = "ha") async throws -> String {
        let primary = primary ?? self.primary
        let name = try await primary.createDatabase(prefix: prefix)
        for server in servers where server !== primary {
            let present = await eventually(timeout: .seconds(30)) {
                (try? await server.psql("SELECT 1 FROM pg_database WHERE datname = '\(name)'")) == "1"
            }
            guard present else { throw HarnessError("standby on port \(server.port) did not receive database \(name)") }
        }
        return name
    }

    /// Waits until `primary` reports `standbys` streaming replicas.
    public func waitUntilStreaming(standbys: Int, primary: PostgresServer? = nil) async throws {
        let primary = primary ?? self.primary
        let ok = await eventually(timeout: .seconds(60)) {
            (try? await primary.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) == "\(standbys)"
        }
        guard ok else { throw HarnessError("\(standbys) standbys did not start streaming from port \(primary.port)") }
    }

    public func stopAll() {
        for server in servers { server.stop() }
    }
}
