import AsyncHTTPClient
import Foundation
import SteadfastTestSupport
import Synchronization

/// `Scripts/tcp_proxy.py` run as a child process: a TCP path to a test server that a test can
/// kill (by PID) mid-request and start again on the same port.
final class TCPProxy: Sendable {
    let port: Int
    let targetPort: Int
    private let process = Mutex<Process?>(nil)

    init(targetPort: Int) throws {
        self.port = try FreePort.next()
        self.targetPort = targetPort
    }

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Starts the proxy and waits until it forwards (at most 20 s).
    func start() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/tcp_proxy.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(port), String(targetPort)]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
        try await waitUntil("the TCP proxy on port \(port) forwards", timeout: .seconds(20), interval: .milliseconds(50)) {
            guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: endpoint.absoluteString + "/moto-api/"), timeout: .seconds(2)) else {
                return false
            }
            _ = try? await response.body.collect(upTo: 1 << 20)
            return true
        }
    }

    /// Kills the proxy (SIGKILL): open connections drop, new ones are refused.
    func kill() {
        process.withLock { process in
            defer { process = nil }
            return process
        }?.killAndReap()
    }

    deinit {
        kill()
    }
}
