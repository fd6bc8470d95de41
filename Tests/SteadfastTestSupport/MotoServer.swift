import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A real S3 API server for tests: `moto_server` (PyPI `moto[server]`) on 127.0.0.1 at a free
/// port, killed by PID when the test is done. Bound in time: start waits at most 30 s.
///
/// - Default mode accepts any credentials and does not check signatures (presigned URLs work).
/// - `checksSignatures: true` starts it with `INITIAL_NO_AUTH_ACTION_COUNT=0`: after
///   ``allowUnauthenticatedCalls(_:)`` lets a few set-up calls through (create an IAM user and
///   its access key), every request must be signed with a known key, so a wrong signature fails.
public final class MotoServer: Sendable {
    /// The TCP port.
    public let port: Int
    /// The server's process id (for killing it mid-test).
    public let pid: Int32
    /// `http://127.0.0.1:<port>`.
    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }
    private let process: Process
    /// Set once the process has been killed and reaped: its PID must not be signalled again.
    private let stopped = LockedBox(false)
    private let logPath: String

    private init(port: Int, process: Process, logPath: String) {
        self.port = port
        self.pid = process.processIdentifier
        self.process = process
        self.logPath = logPath
    }

    /// Starts a server and waits until it answers.
    public static func start(checksSignatures: Bool = false, timeout: Duration = .seconds(30)) async throws -> MotoServer {
        var lastError: any Error = MotoServerError(message: "moto_server did not start")
        for _ in 0..<3 {
            let port = try FreePort.next()
            let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(port)-\(UUID().uuidString).log").path
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
            var environment = ProcessInfo.processInfo.environment
            if checksSignatures { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "0" }
            process.environment = environment
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                throw MotoServerError(message: "cannot run moto_server (install it with: pip install 'moto[server]'): \(error)")
            }
            let server = MotoServer(port: port, process: process, logPath: logPath)
            do {
                try await server.waitUntilReady(timeout: timeout)
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError
    }

    private func waitUntilReady(timeout: Duration) async throws {
        try await waitUntil("moto_server answers: \(tailOfLog())", timeout: timeout) {
            guard process.isRunning else {
                throw MotoServerError(message: "moto_server exited early: \(tailOfLog())")
            }
            guard let (status, _) = try? await Self.request(method: .GET, url: "\(endpoint.absoluteString)/moto-api/", body: nil), status < 500 else {
                return false
            }
            // Answered — by this moto, not by some other server on the port, if ours still runs.
            guard process.isRunning else { throw MotoServerError(message: "moto_server exited after start: \(tailOfLog())") }
            return true
        }
    }

    /// Lets the next `count` requests through without authentication (signature mode only),
    /// after resetting the server's state.
    public func allowUnauthenticatedCalls(_ count: Int) async throws {
        _ = try await post(path: "/moto-api/reset", body: "")
        let (status, body) = try await post(path: "/moto-api/reset-auth", body: String(count))
        guard status == 200 else { throw MotoServerError(message: "reset-auth answered \(status): \(body)") }
    }

    /// Empties the server (buckets, users...).
    public func reset() async throws {
        _ = try await post(path: "/moto-api/reset", body: "")
    }

    /// POSTs a text body to the server (moto's control API).
    public func post(path: String, body: String) async throws -> (status: UInt, body: String) {
        try await Self.request(method: .POST, url: endpoint.absoluteString + path, body: body)
    }

    /// Kills the server now (SIGKILL by PID) and waits for it to exit.
    public func stop() {
        if stopped.with({ done in defer { done = true }; return !done }) { process.killAndReap() }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// The last lines the server logged (for failure messages).
    public func tailOfLog() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    deinit {
        if stopped.with({ done in defer { done = true }; return !done }) { process.killAndReap() }
    }

    static func request(method: HTTPMethod, url: String, body: String?) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "text/plain")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let collected = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: collected))
    }
}

/// The test S3 server could not be started or driven.
public struct MotoServerError: Error, CustomStringConvertible {
    /// What happened.
    public let message: String
    /// Creates an error.
    public init(message: String) { self.message = message }
    public var description: String { message }
}
