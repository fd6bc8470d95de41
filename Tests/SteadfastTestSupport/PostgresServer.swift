import Foundation
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
        let server = try PostgresServer(root: try TestPaths.makeTemporaryDirectory(prefix: "steadfast-pg"))
        try server.initialise(settings: settings, fastAndUnsafe: fastAndUnsafe)
        try await server.startServer()
        return server
    }

    init(root: URL) throws {
        self.root = root
        self.dataDirectory = root.appendingPathComponent("data").path
        self.port = try FreePort.next()
        self.binDirectory = try Self.findBinaries()
        self.runAsUser = getuid() == 0 ? "postgres" : nil
        if let user = runAsUser {
            try Self.run("/bin/chown", ["-R", user, root.path])
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/NAME`.
    public func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a new, empty database with a unique name and returns its name.
    public func createDatabase(prefix: String = "t") throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        try psql("CREATE DATABASE \(name)")
        return name
    }

    /// Runs SQL through `psql` (as the superuser, on the `postgres` database unless given).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.run(binary("psql"), ["-X", "-q", "-At", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-c", sql], asUser: runAsUser)
    }

    /// Stops the server at once (SIGQUIT: immediate shutdown) and waits for it.
    public func stop() {
        guard let process = postmaster.value else { return }
        process.send(SIGQUIT)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(20_000) }
    }

    /// The PID of the running postmaster.
    public var postmasterPID: Int32? { postmaster.value?.pid }

    func binary(_ name: String) -> String { "\(binDirectory)/\(name)" }

    func initialise(settings: [String: String], fastAndUnsafe: Bool) throws {
        var initArguments = ["-D", dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]
        if fastAndUnsafe { initArguments.append("--no-sync") }
        try Self.run(binary("initdb"), initArguments, asUser: runAsUser)
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
        let text = conf.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "\n") + "\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    func startServer() async throws {
        // setpriv switches user and execs (runuser would fork and keep a parent in between).
        let command = runAsUser.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--init-groups", "--"] } ?? []
        let arguments = command + [binary("postgres"), "-D", dataDirectory]
        let process = try ManagedProcess(
            name: "postgres-\(port)", executable: arguments[0], arguments: Array(arguments.dropFirst()), logDirectory: root
        )
        postmaster.with { $0 = process }
        // Watchdog: stop the server when this test process is gone, however it ended.
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill -QUIT \(process.pid) 2>/dev/null"]
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try watchdog.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? Self.run(binary("pg_isready"), ["-q", "-h", "127.0.0.1", "-p", "\(port)"])) != nil { return }
            guard process.isRunning else { throw HarnessError("postgres exited at start:\n\(process.stderr.suffix(3000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("postgres did not accept connections within 60 s:\n\(process.stderr.suffix(3000))")
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

    /// Runs a command to completion; throws with its output if it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], asUser user: String? = nil) throws -> String {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/sbin/runuser")
            process.arguments = ["-u", user, "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        // Output goes to a file, not a pipe: `pg_ctl start` leaves the server holding its
        // parent's descriptors, so reading a pipe to its end would wait for the server to stop.
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-cmd-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle(forWritingTo: outputURL)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        try process.run()
        process.waitUntilExit()
        try? output.close()
        let text = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)):\n\(text)")
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
