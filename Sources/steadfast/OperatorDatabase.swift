import Foundation
import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastWeb

/// Why an operator command cannot use the database, said plainly: what is missing and what to
/// do. ArgumentParser prints it as `Error: <message>` and exits 1.
struct OperatorDatabaseError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }

    /// What to do when the database is not the node's: the same for every case.
    static let remedy = "start a node first (steadfast serve), or pass the node's database with --database (or --data-dir, --config, STEADFAST_DATABASE_URL)"

    static func noDatabaseFile(_ path: String) -> Self {
        Self(message: "there is no database at \(path), so no Steadfast schema: \(remedy)")
    }

    static func inMemory() -> Self {
        Self(message: "sqlite://:memory: is a new, empty in-memory database with no Steadfast schema: \(remedy)")
    }

    static func notSQLite(_ path: String) -> Self {
        Self(message: "\(path) is not a SQLite database: \(remedy)")
    }

    static func noSchema(_ database: String) -> Self {
        Self(message: "the database at \(database) has no Steadfast schema: \(remedy)")
    }

    static func unreachable(_ target: PostgresTarget, reasons: [String]) -> Self {
        Self(message: """
            no PostgreSQL server of \(OperatorDatabase.display(.postgres(target))) is reachable (\(reasons.joined(separator: "; "))): \
            check that the server runs and accepts connections from here, or pass the node's database with --database
            """)
    }

    static func stoppedAnswering(_ database: String, _ error: DatabaseError) -> Self {
        Self(message: "the database at \(database) stopped answering (\(error)): check that it runs, then try again")
    }
}

/// Opens the node's database for an operator command (`db`, `storage`, `jobs`): checks first that
/// it is there, reachable and holds a Steadfast schema — without creating anything when it is
/// not — then runs the connection pool (and PostgreSQL role monitor) for the duration of `body`.
enum OperatorDatabase {
    /// What the command does with the schema once it is known to exist.
    enum SchemaUse {
        /// Uses it as it is (reading, queueing runs).
        case asIs
        /// Brings it up to date first (storage commands, which need the newest tables).
        case upToDate
    }

    /// Pool settings for a short-lived command.
    struct Options {
        var maximumConnections = 4
        var requestTimeout: Duration?
        var logLevel: Logger.Level = .info
    }

    static func with<T: Sendable>(
        _ configuration: NodeConfiguration, label: String, schema: SchemaUse, options: Options = Options(),
        _ body: (any SQLDatabase, Logger) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: label)
        logger.logLevel = options.logLevel
        let url = try PortalNode.databaseURL(configuration)
        try await checkPresent(url, configuration: configuration, logger: logger)

        var postgres = DatabaseConnector.PostgresOptions()
        postgres.maximumConnections = options.maximumConnections
        postgres.requestTimeout = options.requestTimeout ?? max(configuration.databaseTimeout, .seconds(10))
        postgres.maxStandbyLag = configuration.databaseStandbyMaxLag
        postgres.monitorInterval = configuration.databaseMonitorInterval
        let opened = try await DatabaseConnector.open(url, postgres: postgres, logger: logger)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await withThrowingTaskGroup(of: Void.self) { group in
                // The pool runs beside the command's work, which runs here, and stops with it.
                if let pool = opened.service {
                    group.addTask { try await pool.run() }
                }
                defer { group.cancelAll() }
                guard try await hasSchema(opened.database) else { throw OperatorDatabaseError.noSchema(display(url)) }
                if case .upToDate = schema {
                    try await Migrator(nodeID: "\(configuration.nodeID)-cli").migrate(opened.database, logger: logger)
                }
                return try await body(opened.database, logger)
            })
        } catch let error as DatabaseError where error.kind == .connectionFailure || error.kind == .timeout {
            outcome = .failure(OperatorDatabaseError.stoppedAnswering(display(url), error))
        } catch {
            outcome = .failure(error)
        }
        try? await opened.database.close()
        return try outcome.get()
    }


    /// Where the database is, for messages (never a password).
    static func display(_ url: DatabaseURL) -> String {
        switch url {
        case .sqlite(let path): path ?? ":memory:"
        case .postgres(let target):
            "postgres://\(target.endpoints[0].username)@\(target.endpoints.map { "\($0.host):\($0.port)" }.joined(separator: ","))/\(target.endpoints[0].database)"
        }
    }

    /// Fails plainly, before anything is opened, when there is nothing to open: no SQLite file
    /// (opening would create an empty one), a file that is not SQLite, or no reachable
    /// PostgreSQL server (the pool would wait out the request timeout and say only "timeout").
    static func checkPresent(_ url: DatabaseURL, configuration: NodeConfiguration, logger: Logger) async throws {
        switch url {
        case .sqlite(nil):
            throw OperatorDatabaseError.inMemory()
        case .sqlite(let path?):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw OperatorDatabaseError.noDatabaseFile(path)
            }
            // An empty file is an empty SQLite database (opening it would write a header and WAL
            // files next to it); anything else starts with this header.
            let header = FileHandle(forReadingAtPath: path).flatMap { handle in
                defer { try? handle.close() }
                return try? handle.read(upToCount: 16)
            } ?? Data()
            guard !header.isEmpty else { throw OperatorDatabaseError.noSchema(path) }
            guard header == Data("SQLite format 3\0".utf8) else { throw OperatorDatabaseError.notSQLite(path) }
        case .postgres(let target):
            let roles = await probe(target, timeout: max(configuration.databaseTimeout, .seconds(2)), logger: logger)
            let reachable = roles.contains { role in
                switch role {
                case .primary, .standby: true
                case .unreachable, .unknown: false
                }
            }
            guard reachable else {
                let reasons = zip(target.endpoints, roles).map { endpoint, role in
                    if case .unreachable(let reason) = role { return "\(endpoint.host):\(endpoint.port): \(reason)" }
                    return "\(endpoint.host):\(endpoint.port): \(role.name)"
                }
                throw OperatorDatabaseError.unreachable(target, reasons: reasons)
            }
        }
    }

    /// Every host's role, probed concurrently.
    static func probe(_ target: PostgresTarget, timeout: Duration, logger: Logger) async -> [HostRole] {
        await withTaskGroup(of: (Int, HostRole).self) { group in
            for (index, endpoint) in target.endpoints.enumerated() {
                group.addTask { (index, await HostProbe.probe(endpoint, timeout: timeout, logger: logger)) }
            }
            var roles = [HostRole](repeating: .unknown, count: target.endpoints.count)
            for await (index, role) in group { roles[index] = role }
            return roles
        }
    }

    /// Whether a Steadfast node has set up this database: the migrator's own table exists.
    static func hasSchema(_ database: any SQLDatabase) async throws -> Bool {
        let rows: [SQLRow]
        switch database.dialect {
        case .sqlite:
            rows = try await database.read("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        case .postgres:
            rows = try await database.read("SELECT count(*) AS n FROM pg_catalog.pg_tables WHERE tablename = 'schema_migrations' AND schemaname = ANY (current_schemas(false))")
        }
        return try (rows.first?.int("n") ?? 0) > 0
    }

    /// The cluster secret: configured, or the one the first node stored in the database.
    static func secret(_ configuration: NodeConfiguration, database: any SQLDatabase) async throws -> String? {
        if let secret = configuration.secret { return secret }
        return try await SettingsRepository(database: database).value(for: "cluster_secret")
    }
}
