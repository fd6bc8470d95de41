import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cluster up`: plan, write the directory, start every component in order and wait for each.
extension ClusterController {
    /// Creates and starts a cluster in `directory`. Refuses a directory that holds a cluster
    /// (running or not) or anything else. On failure everything started is killed and the
    /// directory kept for its logs.
    public static func up(
        directory: String, options: ClusterOptions, admin requestedAdmin: AdminAccount?, steadfast: String,
        environment: [String: String], say: @escaping @Sendable (String) -> Void
    ) async throws(ClusterError) -> ClusterController {
        try options.validate()
        let directory = ClusterFiles.absolute(directory)
        try checkDirectoryIsFree(directory, steadfast: steadfast, environment: environment)
        let runAsRoot = getuid() == 0
        let programs = try Programs.locate(
            for: options, path: environment["PATH"] ?? "/usr/bin:/bin", postgresOverride: environment["STEADFAST_PG_BIN"], runAsRoot: runAsRoot
        )
        if runAsRoot, getpwnam("postgres") == nil {
            throw ClusterError("PostgreSQL refuses to run as root and there is no postgres user to run it as: install the Debian package postgresql")
        }
        try ClusterFiles.makeDirectory(directory)
        let ports = try FreePorts.take(ClusterPlan.portsNeeded(options))
        let state = ClusterState(
            directory: directory, options: options, databasePassword: ClusterFiles.secret(),
            storageSecretKey: options.topology == .s3 ? ClusterFiles.secret(bytes: 24) : nil, components: ClusterPlan.components(options, ports: ports)
        )
        let admin = requestedAdmin ?? AdminAccount(email: "admin@steadfast.local", password: ClusterFiles.secret(bytes: 12))
        let controller = ClusterController(state: state, admin: admin, programs: programs, steadfast: steadfast, environment: environment, say: say)
        if runAsRoot {
            // PostgreSQL (as postgres) must reach its data directory through every parent.
            let (status, _) = try await ProcessControl.run(controller.asPostgres(["/usr/bin/test", "-x", directory]), environment: environment)
            guard status == 0 else {
                throw ClusterError("""
                    PostgreSQL runs as the postgres user, which cannot enter \(directory): make every parent directory \
                    traversable (chmod o+x) or choose a --dir under /tmp
                    """)
            }
        }
        try controller.writeFiles()
        do {
            try await controller.bringUp()
        } catch {
            await controller.killEverything()
            throw ClusterError("""
                \(error)
                Everything started was stopped; the logs are in \(state.directory)/logs. \
                Remove the directory with `steadfast cluster down --purge --dir \(state.directory)`.
                """)
        }
        return controller
    }

    /// Refuses a directory that holds a cluster or other files.
    static func checkDirectoryIsFree(_ directory: String, steadfast: String, environment: [String: String]) throws(ClusterError) {
        if FileManager.default.fileExists(atPath: ClusterState.stateFile(in: directory)) {
            if let state = try? ClusterFiles.loadState(directory: directory),
               let runningComponent = state.components.first(where: { component in
                   ClusterFiles.processRecord(state, component.name).map(ProcessControl.isRunning) ?? false
               }) {
                throw ClusterError("""
                    \(directory) holds a running cluster (\(runningComponent.name) runs): see `steadfast cluster status --dir \(directory)`, \
                    or stop it with `steadfast cluster down --dir \(directory)`
                    """)
            }
            throw ClusterError("""
                \(directory) holds a stopped cluster: delete it with `steadfast cluster down --purge --dir \(directory)` \
                or choose another --dir
                """)
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: directory), !entries.isEmpty {
            throw ClusterError("\(directory) exists and is not empty: choose a new or empty --dir")
        }
    }

    /// The state, the admin account, the balancer's token and configuration, the directories.
    func writeFiles() throws(ClusterError) {
        for sub in ["logs", "run"] { try ClusterFiles.makeDirectory(state.directory + "/" + sub) }
        try ClusterFiles.makeDirectory(state.directory + "/balancer", mode: 0o700)
        for component in state.components {
            try ClusterFiles.makeDirectory(state.componentDirectory(component.name), mode: component.kind == .node ? 0o700 : 0o755)
            if component.kind == .database { try chownToPostgres(state.componentDirectory(component.name)) }
        }
        if state.options.topology == .sharedDir { try ClusterFiles.makeDirectory(state.sharedFilesDirectory, mode: 0o700) }
        if let storage = state.component("storage") {
            try ClusterFiles.makeDirectory(state.dataDirectory(storage.name), mode: 0o700)
            try ClusterFiles.write(Data(ClusterPlan.storageIdentities(state).utf8), to: state.storageIdentitiesFile)
        }
        try ClusterFiles.writeJSON(state, to: state.stateFile)
        try ClusterFiles.writeJSON(admin, to: state.adminFile)
        try ClusterFiles.write(Data((ClusterFiles.secret(bytes: 24) + "\n").utf8), to: state.balancerTokenFile)
        try ClusterFiles.write(Data(ClusterPlan.balancerConfiguration(state).utf8), to: state.balancerConfigFile, mode: 0o644)
    }

    func chownToPostgres(_ path: String) throws(ClusterError) {
        guard runsAsPostgres, let user = getpwnam("postgres") else { return }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw ClusterError("cannot hand \(path) to the postgres user: \(String(cString: strerror(errno)))")
        }
    }

    /// Starts the components in order: database, storage, nodes (together), balancer.
    func bringUp() async throws(ClusterError) {
        switch state.options.database {
        case .promote: try await setUpPromote()
        case .patroni: try await setUpPatroni()
        }
        if let storage = state.component("storage") {
            say("starting storage (SeaweedFS S3) on \(storage.address)")
            _ = try spawn(storage)
            try await waitReady(storage, timeout: .seconds(60))
        }
        let nodes = state.components(.node)
        say("starting \(nodes.count) nodes")
        for node in nodes { _ = try spawn(node) }
        for node in nodes { try await waitReady(node, timeout: .seconds(180)) }
        let balancer = state.balancer!
        say("starting the balancer on \(balancer.address)")
        _ = try spawn(balancer)
        try await waitReady(balancer, timeout: .seconds(30))
        let healthy = await ProcessControl.waitUntil(timeout: .seconds(60), interval: .milliseconds(100)) {
            let servers = await balancerServers()
            return servers.count == nodes.count && servers.allSatisfy { $0["health"] as? String == "up" }
        }
        guard healthy else { throw ClusterError("the balancer did not see every node healthy within 60 s; see \(state.logFile("balancer"))") }
        guard await HTTPProbe.get(state.url + "/readyz")?.status == 200 else {
            throw ClusterError("\(state.url)/readyz does not answer 200 through the balancer; see \(state.logFile("balancer"))")
        }
    }

    /// `promote`: initdb the primary, create the portal's user and database, clone the standby
    /// with pg_basebackup, start it and wait until it streams synchronously.
    func setUpPromote() async throws(ClusterError) {
        let servers = state.components(.database)
        let (primary, standby) = (servers[0], servers[1])
        say("creating PostgreSQL \(primary.name) (primary) on \(primary.address)")
        let passwordFile = state.componentDirectory(primary.name) + "/initdb.pw"
        try ClusterFiles.write(Data(state.databasePassword.utf8), to: passwordFile)
        try chownToPostgres(passwordFile)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        _ = try await runPostgresProgram("initdb", [
            "-D", state.dataDirectory(primary.name), "-U", "postgres", "--pwfile=\(passwordFile)",
            "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        ])
        try appendSettings(ClusterPlan.primarySettings(state, server: primary), to: state.dataDirectory(primary.name) + "/postgresql.conf")
        _ = try spawn(primary)
        try await waitReady(primary, timeout: .seconds(60))
        try await createPortalDatabase(on: primary)
        say("cloning \(standby.name) (synchronous standby) on \(standby.address)")
        _ = try await runPostgresProgram("pg_basebackup", [
            "-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", state.dataDirectory(standby.name), "-X", "stream", "-c", "fast", "-R",
        ])
        try appendSettings(ClusterPlan.standbySettings(state, server: standby, primary: primary), to: state.dataDirectory(standby.name) + "/postgresql.auto.conf")
        _ = try spawn(standby)
        try await waitReady(standby, timeout: .seconds(60))
        // From now on every commit waits for the standby.
        try await afterDatabaseStart(standby)
    }

    /// `patroni`: etcd, then three Patroni members; waits for a leader and two replicas.
    func setUpPatroni() async throws(ClusterError) {
        let etcd = state.component("etcd")!
        say("starting etcd on \(etcd.address)")
        _ = try spawn(etcd)
        try await waitReady(etcd, timeout: .seconds(60))
        let servers = state.components(.database)
        for server in servers {
            let file = patroniConfigFile(server)
            try ClusterFiles.write(Data(ClusterPlan.patroniConfiguration(state, server: server, binDirectory: programs.postgresBin).utf8), to: file)
            try chownToPostgres(file)
        }
        say("starting \(servers.count) PostgreSQL servers under Patroni")
        for server in servers { _ = try spawn(server) }
        var leader: ComponentSpec?
        let formed = await ProcessControl.waitUntil(timeout: .seconds(180), interval: .milliseconds(200)) {
            var leaders: [ComponentSpec] = []
            var replicas = 0
            for server in servers {
                switch await role(server) {
                case .leader: leaders.append(server)
                case .replica: replicas += 1
                default: break
                }
            }
            leader = leaders.first
            return leaders.count == 1 && replicas == servers.count - 1
        }
        for server in servers where running(server.name) == nil {
            throw ClusterError("\(server.name) (Patroni) exited; the end of its log:\n\(ClusterFiles.tail(state.logFile(server.name)))")
        }
        guard formed, let leader else {
            throw ClusterError("Patroni did not elect a leader with \(servers.count - 1) replicas within 180 s; see \(state.directory)/logs")
        }
        try await createPortalDatabase(on: leader)
    }

    /// The portal's login role and its database (the password is hex: nothing to escape).
    func createPortalDatabase(on primary: ComponentSpec) async throws(ClusterError) {
        _ = try await psql(primary, "CREATE ROLE \(ClusterState.databaseUser) LOGIN PASSWORD '\(state.databasePassword)'")
        _ = try await psql(primary, "CREATE DATABASE \(ClusterState.databaseName) OWNER \(ClusterState.databaseUser)")
    }

    /// Kills every recorded process (after a failed `up`).
    func killEverything() async {
        for component in state.components.reversed() {
            guard var record = record(component.name) else { continue }
            await ProcessControl.killHard(record, tree: true, extra: extraDatabasePIDs(component))
            removeLeftovers(component)
            record.stopped = true
            try? ClusterFiles.saveProcessRecord(record, state, component.name)
        }
    }

    /// What `cluster up` prints at the end.
    public func summary(_ status: ClusterStatus) -> String {
        """

        Steadfast cluster is up in \(state.directory)
          URL:         \(state.url)
          Log in as:   \(admin.email) / \(admin.password)   (kept in \(state.adminFile))
          Balancer admin API: \(state.balancerAdminURL)   (token in \(state.balancerTokenFile))
          Database:    \(state.options.database.rawValue); storage: \(state.options.topology.rawValue); sticky sessions: \(state.options.sticky ? "on" : "off")
          Logs:        \(state.directory)/logs

        \(status.table())

        Operate it with `steadfast cluster status|kill|stop|start|rolling-restart|failover|down --dir \(state.directory)`.
        """
    }
}
