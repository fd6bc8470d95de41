import Foundation
import SteadfastConcurrency
import SteadfastDomain
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for tests: `initdb` into a fresh temporary directory, listening on
/// 127.0.0.1 on a free port, run as the `postgres` user when the tests run as root (PostgreSQL
/// refuses root). A shell watchdog stops the server if the test process dies without cleaning up.
public final class PostgresServer: Sendable {
    public let port: Int
    public let dataDirectory: String
    public let binDirectory: String
    let runAsUser: String?
    let root: URL
    /// The postmaster, run in the foreground (not daemonised by pg_ctl) so its PID is ours.
    let postmaster = LockedBox<ManagedProcess?>(nil)

    /// The server shared by every test in this process (started on first use, with
    /// `fsync=off` for speed — tests that measure durability start their own).
    public static func shared() async throws -> PostgresServer {
        try await SharedServer.instance.get()
    }

    /// Starts a new server. `settings` are appended to postgresql.conf.
    public static func start(settings: [String: String] = [:], fastAndUnsafe: Bool = true) async throws -> PostgresServer {
        let server = try await PostgresServer(root: try TestPaths.makeTemporaryDirectory(prefix: "steadfast-pg"))
        try await server.initialise(settings: settings, fastAndUnsafe: fastAndUnsafe)
        try await server.startServer()
        return server
    }

    init(root: URL) async throws {
        self.root = root
        self.dataDirectory = root.appendingPathComponent("data").path
        self.port = try FreePort.next()
        self.binDirectory = try Self.findBinaries()
        self.runAsUser = getuid() == 0 ? "postgres" : nil
        if let user = runAsUser {
            try await Self.run("/bin/chown", ["-R", user, root.path])
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/NAME`.
    public func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a new, empty database with a unique name and returns its name.
    public func createDatabase(prefix: String = "t") async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        try await psql("CREATE DATABASE \(name)")
        return name
    }

    /// Runs SQL through `psql` (as the superuser, on the `postgres` database unless given).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await Self.run(binary("psql"), ["-X", "-q", "-At", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-c", sql], asUser: runAsUser)
    }

    /// Waits until the backend with process ID `pid` has ended (its row is gone from
    /// `pg_stat_activity`). Returns `nil` once it has, or, after `timeout`, what the server last
    /// showed for it — the row, or why `psql` could not ask — so a failure says which it was.
    public func waitUntilBackendEnds(_ pid: Int64, timeout: Duration = .seconds(30)) async -> String? {
        var lastSeen = "nothing yet"
        let ended = await eventually(timeout: timeout, interval: .milliseconds(50)) {
            do {
                let row = try await psql(
                    "SELECT concat_ws(' ', pid, state, backend_type, backend_start, state_change, wait_event_type, wait_event, left(query, 60)) FROM pg_stat_activity WHERE pid = \(pid)"
                )
                lastSeen = row.isEmpty ? "no row" : "row: \(row)"
                return row.isEmpty
            } catch {
                lastSeen = "psql failed: \(error)"
                return false
            }
        }
        return ended ? nil : "backend \(pid) still there after \(DurationText.format(timeout)); last seen: \(lastSeen)"
    }

    /// Asks the server to stop at once (SIGQUIT: immediate shutdown) without waiting: for
    /// clean-up in `defer` blocks.
    public func stop() {
        postmaster.value?.send(SIGQUIT)
    }

    /// Stops the server at once and waits until it is gone.
    public func stopAndWait() async {
        await stop(signal: SIGQUIT)
    }

    /// Stops the server the clean way (SIGINT: fast shutdown — clients are disconnected with
    /// 57P01, a shutdown checkpoint is written and sent to standbys) and waits.
    public func stopFast() async {
        await stop(signal: SIGINT)
    }

    private func stop(signal: Int32) async {
        guard let process = postmaster.value else { return }
        process.send(signal)
        _ = try? await process.waitForExit(timeout: .seconds(30))
    }

    /// A crash: SIGKILL to the postmaster and every backend it started (backends would
    /// otherwise live on for a moment and answer queries).
    public func killHard() async {
        guard let process = postmaster.value else { return }
        let children = Self.childProcesses(of: process.pid)
        process.send(SIGKILL)
        for child in children { kill(child, SIGKILL) }
        _ = await eventually(timeout: .seconds(30), interval: .milliseconds(10)) {
            !process.isRunning && !children.contains { kill($0, 0) == 0 }
        }
    }

    /// A hang, not a crash: SIGSTOP to the postmaster and every backend, so connections stay
    /// open and nothing answers (as with a frozen VM or a silent network). ``thaw()`` undoes it.
    public func freeze() {
        guard let process = postmaster.value else { return }
        for pid in [process.pid] + Self.childProcesses(of: process.pid) { kill(pid, SIGSTOP) }
    }

    /// Resumes a frozen server.
    public func thaw() {
        guard let process = postmaster.value else { return }
        for pid in [process.pid] + Self.childProcesses(of: process.pid) { kill(pid, SIGCONT) }
    }

    /// Starts the server again on the same data directory (after a stop or a crash).
    public func restart() async throws {
        try await startServer()
    }

    /// `pg_ctl promote`: a standby becomes a primary; returns when it accepts writes.
    public func promote() async throws {
        try await Self.run(binary("pg_ctl"), ["-D", dataDirectory, "-w", "-t", "60", "promote"], asUser: runAsUser)
    }

    /// Turns a stopped former primary into a standby of `primary` and starts it. Only valid when
    /// it was shut down cleanly before `primary` was promoted (no diverging history).
    public func startAsStandby(of primary: PostgresServer, name: String) async throws {
        guard FileManager.default.createFile(atPath: dataDirectory + "/standby.signal", contents: Data()) else {
            throw HarnessError("cannot write standby.signal")
        }
        try appendSettings([
            "primary_conninfo": "'host=127.0.0.1 port=\(primary.port) user=postgres application_name=\(name)'",
            "synchronous_standby_names": "''",
        ], to: "postgresql.auto.conf")
        if let user = runAsUser { try await Self.run("/bin/chown", ["-R", user, root.path]) }
        try await startServer()
    }

    /// A new streaming standby of `primary`: `pg_basebackup -R`, its own port, started.
    public static func standby(of primary: PostgresServer, name: String) async throws -> PostgresServer {
        let server = try await PostgresServer(root: try TestPaths.makeTemporaryDirectory(prefix: "steadfast-pg-\(name)"))
        try await run(server.binary("pg_basebackup"), [
            "-h", "127.0.0.1", "-p", "\(primary.port)", "-U", "postgres", "-D", server.dataDirectory, "-R", "-X", "stream", "-c", "fast",
        ], asUser: server.runAsUser)
        try server.appendSettings([
            "port": "\(server.port)",
            "unix_socket_directories": "'\(server.root.path)'",
            "primary_conninfo": "'host=127.0.0.1 port=\(primary.port) user=postgres application_name=\(name)'",
            "synchronous_standby_names": "''",
            "wal_retrieve_retry_interval": "'200ms'",
        ], to: "postgresql.auto.conf")
        try await server.startServer()
        return server
    }

    /// Appends `key = value` lines to a file in the data directory (later lines win).
    public func appendSettings(_ settings: [String: String], to file: String = "postgresql.conf") throws {
        let text = settings.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "\n") + "\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/" + file))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    /// `SELECT pg_reload_conf()` after changing settings.
    public func reload() async throws {
        try await psql("SELECT pg_reload_conf()")
    }

    static func childProcesses(of parent: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    /// The PID of the running postmaster.
    public var postmasterPID: Int32? { postmaster.value?.pid }

    /// Everything the server has written to its log so far (its standard error: the harness
    /// runs it without `logging_collector`). With `log_connections = on` it has one
    /// `connection authorized: ... database=NAME` line per session.
    public var serverLog: String { postmaster.value?.stderr ?? "" }

    func binary(_ name: String) -> String { "\(binDirectory)/\(name)" }

    func initialise(settings: [String: String], fastAndUnsafe: Bool) async throws {
        var initArguments = ["-D", dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]
        if fastAndUnsafe { initArguments.append("--no-sync") }
        try await Self.run(binary("initdb"), initArguments, asUser: runAsUser)
        var conf: [String: String] = [
            "listen_addresses": "'127.0.0.1'",
            "port": "\(port)",
            "unix_socket_directories": "'\(root.path)'",
            "max_connections": "200",
            "shared_buffers": "32MB",
            "log_min_messages": "warning",
        ]
        if fastAndUnsafe {
            conf["fsync"] = "off"
            conf["synchronous_commit"] = "off"
            conf["full_page_writes"] = "off"
        }
        for (key, value) in settings { conf[key] = value }
        try appendSettings(conf)
    }

    func startServer() async throws {
        // setpriv switches user and execs (runuser would fork and keep a parent in between).
        let command = runAsUser.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--init-groups", "--"] } ?? []
        let arguments = command + [binary("postgres"), "-D", dataDirectory]
        let process = try ManagedProcess(
            name: "postgres-\(port)", executable: arguments[0], arguments: Array(arguments.dropFirst()), logDirectory: root
        )
        postmaster.with { $0 = process }
        // Watchdog: when this test process is gone, however it ended, stop the server and delete
        // its directory (a test run creates dozens of servers; left behind they fill the disk).
        // The directory outlives `stop()` on purpose: `restart()` starts again on the same data.
        // Only a process that is still this server is signalled: a server stopped earlier has
        // left its pid free for reuse, and a SIGQUIT once crashed another run's node that had it.
        let isServer = "tr '\\0' ' ' < /proc/\(process.pid)/cmdline 2>/dev/null | grep -qF -- '\(dataDirectory)'"
        _ = try Spawn.start(["/bin/sh",
            "-c", """
                while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
                \(isServer) && kill -QUIT \(process.pid) 2>/dev/null
                i=0; while \(isServer) && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
                case '\(root.path)' in */steadfast-pg*) rm -rf '\(root.path)' ;; esac
                """,
        ], environment: ProcessInfo.processInfo.environment, outputPath: "/dev/null")
        try await waitUntil("postgres accepts connections:\n\(process.stderr.suffix(3000))", timeout: .seconds(60)) {
            if (try? await Self.run(binary("pg_isready"), ["-q", "-h", "127.0.0.1", "-p", "\(port)"])) != nil { return true }
            guard process.isRunning else { throw HarnessError("postgres exited at start:\n\(process.stderr.suffix(3000))") }
            return false
        }
    }

    static func findBinaries() throws -> String {
        if let override = ProcessInfo.processInfo.environment["STEADFAST_PG_BIN"] { return override }
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            .map { "/usr/lib/postgresql/\($0)/bin" } ?? []
        for directory in candidates + ["/usr/local/bin", "/usr/bin"] where FileManager.default.isExecutableFile(atPath: directory + "/initdb") {
            return directory
        }
        throw HarnessError("PostgreSQL binaries (initdb, pg_ctl) not found; install postgresql (README: run the test command)")
    }

    /// Runs a command to completion (suspending, not blocking a thread); throws with its output
    /// if it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], asUser user: String? = nil) async throws -> String {
        var command = [executable] + arguments
        if let user { command = ["/sbin/runuser", "-u", user, "--"] + command }
        // Output goes to a file, not a pipe: a server started by the command could keep a pipe
        // open long after the command itself has finished.
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-cmd-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let pid = try Spawn.start(command, environment: ProcessInfo.processInfo.environment, workingDirectory: "/tmp", outputPath: outputURL.path)
        let status = await poll(timeout: .seconds(300), interval: .milliseconds(5)) { Spawn.exitStatusIfExited(pid) }
        let text = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        guard let status else {
            kill(pid, SIGKILL)
            _ = await poll(timeout: .seconds(10), interval: .milliseconds(5)) { Spawn.exitStatusIfExited(pid) }
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not finish (300 s, or the test was cancelled):\n\(text)")
        }
        guard status == 0 else {
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) failed (\(status)):\n\(text)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Starts the shared server once, however many tests ask for it concurrently.
actor SharedServer {
    static let instance = SharedServer()
    private var task: Task<PostgresServer, any Error>?

    func get() async throws -> PostgresServer {
        if let task { return try await task.value }
        let task = Task { try await PostgresServer.start() }
        self.task = task
        let server = try await task.value
        SharedServer.registered.withLock { $0 = server }
        atexit { SharedServer.registered.withLock { $0 }?.stop() }
        return server
    }

    /// The shared server, for the exit handler (a C function pointer cannot capture it).
    static let registered = Mutex<PostgresServer?>(nil)
}
