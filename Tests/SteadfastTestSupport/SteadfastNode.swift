import Foundation

/// A real `steadfast serve` process for live tests, on 127.0.0.1 with a port it picked itself.
public final class SteadfastNode: Sendable {
    public let process: ManagedProcess
    /// `http://127.0.0.1:PORT`, read from the node's start-up line.
    public let baseURL: String
    public let workingDirectory: URL

    /// Starts a node and waits until it prints the address it listens on.
    /// - Parameters:
    ///   - database: a database URL; `nil` uses the zero-config default (SQLite under `workingDirectory`).
    ///   - arguments: extra `serve` arguments (e.g. `--set session.idle_timeout=2s`).
    ///   - rateLimits: keep the default `security.rate_limit.*`; off by default, because tests
    ///     register and log in far more often from 127.0.0.1 than any person would (the
    ///     rate-limit tests turn them on and set their own).
    public static func start(
        name: String = "node", database: String? = nil, arguments: [String] = [], environment: [String: String?] = [:],
        workingDirectory: URL? = nil, bcryptCost: Int? = 4, drainDelay: String = "0s", rateLimits: Bool = false
    ) async throws -> SteadfastNode {
        let directory = try workingDirectory ?? TestPaths.makeTemporaryDirectory(prefix: "steadfast-node")
        var args = ["serve", "--port", "0", "--node-id", name, "--drain-delay", drainDelay]
        if let database { args += ["--database", database] }
        if let bcryptCost { args += ["--set", "security.bcrypt_cost=\(bcryptCost)"] }
        if !rateLimits {
            for key in ["login_per_account", "login_per_ip", "register_per_ip", "api_token", "password_reset_per_account", "password_reset_per_ip", "second_factor"] { args += ["--set", "security.rate_limit.\(key)=off"] }
        }
        args += arguments
        let process = try ManagedProcess(
            name: "\(name)-\(UUID().uuidString.prefix(4))", executable: TestPaths.steadfastBinary, arguments: args,
            environment: environment, workingDirectory: directory, logDirectory: directory
        )
        let base = try await process.waitForOutput(matching: "listening on (http://127\\.0\\.0\\.1:[0-9]+)")
        return SteadfastNode(process: process, baseURL: base, workingDirectory: directory)
    }

    init(process: ManagedProcess, baseURL: String, workingDirectory: URL) {
        self.process = process
        self.baseURL = baseURL
        self.workingDirectory = workingDirectory
    }

    /// A client for this node (optionally sharing another client's cookies).
    public func client(cookies: CookieJar = CookieJar()) -> HTTPTestClient {
        HTTPTestClient(baseURL: baseURL, cookies: cookies)
    }

    /// Waits until the node's readiness says it reaches no primary (`degraded: ["database"]`):
    /// it has noticed that the primary is gone.
    public func waitUntilNoPrimary(timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("\(baseURL)/readyz reports no reachable primary", timeout: timeout) {
            (try? await client().get("/readyz", timeout: .seconds(5)))?.json["degraded"] as? [String] == ["database"]
        }
    }

    /// SIGTERM and wait for the exit status.
    public func stop() async throws -> Int32 {
        process.send(SIGTERM)
        return try await process.waitForExit()
    }
}
