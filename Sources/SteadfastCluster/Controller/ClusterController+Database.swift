import Foundation
import SteadfastDomain
#if canImport(Glibc)
import Glibc
#endif

/// The database: roles, lag, rejoining a former primary, failover.
extension ClusterController {
    /// Runs one SQL statement with psql as the `postgres` superuser over TCP; the trimmed
    /// output, or an error. Statements here are constants of this file, never built from input.
    func psql(_ server: ComponentSpec, _ sql: String, database: String = "postgres", timeout: Duration = .seconds(10)) async throws(ClusterError) -> String {
        var environment = self.environment
        environment["PGPASSWORD"] = state.databasePassword
        environment["PGCONNECT_TIMEOUT"] = "2"
        return try await ProcessControl.runChecked(
            [programs.psql, "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", String(server.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: environment, timeout: timeout
        )
    }

    /// A PostgreSQL program run as postgres, with the password in its environment.
    func runPostgresProgram(_ program: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws(ClusterError) -> String {
        var environment = self.environment
        environment["PGPASSWORD"] = state.databasePassword
        return try await ProcessControl.runChecked(asPostgres([programs.postgres(program)] + arguments), environment: environment, timeout: timeout)
    }

    /// The role a running database server plays now, asked from the server itself (`promote`:
    /// `pg_is_in_recovery()`; `patroni`: its REST API's `/primary` and `/replica`).
    func role(_ server: ComponentSpec) async -> ClusterStatus.Role? {
        switch state.options.database {
        case .promote:
            switch try? await psql(server, "SELECT pg_is_in_recovery()", timeout: .seconds(3)) {
            case "f": return .primary
            case "t": return .standby
            default: return nil
            }
        case .patroni:
            let api = "http://127.0.0.1:\(server.controlPort!)"
            if await HTTPProbe.get(api + "/primary")?.status == 200 { return .leader }
            if await HTTPProbe.get(api + "/replica")?.status == 200 { return .replica }
            return nil
        }
    }

    /// Bytes each standby's replay is behind the primary, from the primary's
    /// `pg_stat_replication` (keyed by application name, which is the component's name).
    func replicationLag(primary: ComponentSpec) async -> [String: Int64] {
        let sql = "SELECT application_name || '|' || COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint FROM pg_stat_replication"
        guard let output = try? await psql(primary, sql, timeout: .seconds(3)) else { return [:] }
        var lag: [String: Int64] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "|")
            if parts.count == 2, let bytes = Int64(parts[1]) { lag[String(parts[0])] = bytes }
        }
        lag[primary.name] = 0
        return lag
    }

    /// The database servers that run and their roles.
    func databaseRoles() async -> [(ComponentSpec, ClusterStatus.Role)] {
        var roles: [(ComponentSpec, ClusterStatus.Role)] = []
        for server in state.components(.database) where running(server.name) != nil {
            if let role = await role(server) { roles.append((server, role)) }
        }
        return roles
    }

    // MARK: promote mode

    /// Before a `promote`-mode server starts again: a former primary (no standby.signal) whose
    /// peer has become the primary must not come back as a second primary. It rejoins as a
    /// standby: a checkpoint on the new primary (PostgreSQL 15 picks the wrong timeline
    /// without one), `pg_rewind` to the new primary's history, and the standby settings.
    func prepareRestart(_ server: ComponentSpec) async throws(ClusterError) {
        let data = state.dataDirectory(server.name)
        guard !FileManager.default.fileExists(atPath: data + "/standby.signal") else { return }
        guard let (primary, _) = await databaseRoles().first(where: { $0.0.name != server.name && $0.1 == .primary }) else { return }
        say("\(server.name) was a primary; \(primary.name) is the primary now: rewinding \(server.name) to rejoin as its standby")
        _ = try await psql(primary, "CHECKPOINT")
        // Backends of the killed postmaster may still hold the data directory.
        _ = await ProcessControl.waitUntil(timeout: .seconds(10)) { !FileManager.default.fileExists(atPath: data + "/postmaster.pid") || !postmasterAlive(data) }
        if postmasterAlive(data) { throw ClusterError("\(server.name): a postmaster still runs on \(data); stop it first") }
        removeStaleLockFiles(server)
        _ = try await runPostgresProgram("pg_rewind", ["--target-pgdata=\(data)", "--source-server=\(ClusterPlan.conninfo(state, primary))", "-R"], timeout: .seconds(300))
        try appendSettings(ClusterPlan.standbySettings(state, server: server, primary: primary), to: data + "/postgresql.auto.conf")
    }

    /// After a `promote`-mode server started: when it is a standby, make its primary wait for it
    /// again (synchronous replication), since a promoted primary was started without a standby.
    func afterDatabaseStart(_ server: ComponentSpec) async throws(ClusterError) {
        guard await role(server) == .standby,
              let (primary, _) = await databaseRoles().first(where: { $0.0.name != server.name && $0.1 == .primary }) else { return }
        _ = try await psql(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        _ = try await psql(primary, "SELECT pg_reload_conf()")
        try await waitStreaming(primary: primary, standby: server)
    }

    /// Waits until `primary` reports `standby` streaming synchronously.
    func waitStreaming(primary: ComponentSpec, standby: ComponentSpec, timeout: Duration = .seconds(60)) async throws(ClusterError) {
        let sql = "SELECT count(*) FROM pg_stat_replication WHERE application_name = '\(standby.name)' AND state = 'streaming' AND sync_state = 'sync'"
        let streaming = await ProcessControl.waitUntil(timeout: timeout, interval: .milliseconds(100)) {
            (try? await psql(primary, sql, timeout: .seconds(3))) == "1"
        }
        guard streaming else { throw ClusterError("\(standby.name) did not start streaming synchronously from \(primary.name) within \(DurationText.format(timeout))") }
    }

    /// Removes PostgreSQL's lock files (postmaster.pid, the socket's `.s.PGSQL.PORT.lock`) when
    /// the PID in them no longer runs. PostgreSQL itself only asks `kill(pid, 0)`, which a
    /// zombie passes: where PID 1 does not reap orphans (containers), a killed postmaster stays
    /// a zombie and its server could never start again.
    func removeStaleLockFiles(_ server: ComponentSpec) {
        let files = [state.dataDirectory(server.name) + "/postmaster.pid", state.componentDirectory(server.name) + "/.s.PGSQL.\(server.port).lock"]
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), let first = text.split(separator: "\n").first,
                  let pid = pid_t(first.trimmingCharacters(in: .whitespaces)), ProcessControl.startTime(of: pid) == nil else { continue }
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    /// Whether the postmaster named in `data`/postmaster.pid runs.
    func postmasterAlive(_ data: String) -> Bool {
        guard let text = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first) else { return false }
        return ProcessControl.startTime(of: pid) != nil
    }

    /// Appends `key = value` lines to a PostgreSQL configuration file (later lines win).
    func appendSettings(_ settings: [(String, String)], to path: String) throws(ClusterError) {
        let text = "\n# steadfast cluster\n" + settings.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ClusterError("cannot open \(path)") }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try? handle.close()
    }

    // MARK: failover

    /// Kills the database primary (kill -9, children included) and, with `promote`, promotes
    /// the standby; returns once the new primary accepts writes.
    public func failover() async throws(ClusterError) {
        let roles = await databaseRoles()
        let primaryRole: ClusterStatus.Role = state.options.database == .promote ? .primary : .leader
        guard let (primary, _) = roles.first(where: { $0.1 == primaryRole }) else {
            throw ClusterError("no running database \(primaryRole.rawValue) to fail over from (see `steadfast cluster status`)")
        }
        let successors = roles.filter { $0.0.name != primary.name }.map(\.0)
        guard !successors.isEmpty else {
            throw ClusterError("\(primary.name) is the only running database server: nothing to fail over to")
        }
        try await kill(primary.name)
        let killedAt = ContinuousClock.now
        let newPrimary: ComponentSpec
        switch state.options.database {
        case .promote:
            newPrimary = successors[0]
            _ = try await psql(newPrimary, "SELECT pg_promote(true, 60)", timeout: .seconds(70))
        case .patroni:
            var elected: ComponentSpec?
            _ = await ProcessControl.waitUntil(timeout: .seconds(120), interval: .milliseconds(100)) {
                for candidate in successors where await role(candidate) == .leader {
                    elected = candidate
                    return true
                }
                return false
            }
            guard let elected else { throw ClusterError("no new Patroni leader within 120 s of killing \(primary.name); see \(state.directory)/logs") }
            newPrimary = elected
        }
        // txid_current() assigns a transaction id, which only a writable primary can.
        let writable = await ProcessControl.waitUntil(timeout: .seconds(60), interval: .milliseconds(50)) {
            (try? await psql(newPrimary, "SELECT txid_current() > 0", timeout: .seconds(3))) == "t"
        }
        guard writable else { throw ClusterError("\(newPrimary.name) did not accept writes within 60 s of the failover") }
        let elapsed = ContinuousClock.now - killedAt
        say("failover: \(primary.name) killed; \(newPrimary.name) is the \(primaryRole.rawValue) and accepts writes (\(DurationText.formatMeasured(elapsed)) after the kill)")
    }
}
