import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SteadfastBalancer
import SteadfastTestSupport
import Synchronization
import Testing

/// A test backend process and the port it listens on.
struct TestBackendProcess {
    let name: String
    let port: Int
    let process: ChildProcess
    let postLog: String
}

/// The `steadfast balance` process and its ports.
struct BalancerProcess {
    let process: ChildProcess
    let proxyPort: Int
    let adminPort: Int
    let configPath: String
}

/// One live test's world: real backend processes and a real balancer process on 127.0.0.1,
/// plus an HTTP client. Everything is stopped when the test ends, pass or fail.
final class LiveCluster: Sendable {
    let processes: ChildProcessGroup
    let http: HTTPClient

    private init(processes: ChildProcessGroup) {
        self.processes = processes
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(20))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func run(_ body: (LiveCluster) async throws -> Void) async throws {
        try await ChildProcessGroup.run { group in
            let cluster = LiveCluster(processes: group)
            do {
                try await body(cluster)
            } catch {
                try? await cluster.http.shutdown()
                throw error
            }
            try await cluster.http.shutdown()
        }
    }

    // MARK: Processes

    func startBackend(_ name: String, port: Int = 0) async throws -> TestBackendProcess {
        let postLog = processes.directory.appendingPathComponent("\(name).posts").path
        let process = try processes.start(
            "SteadfastTestBackend",
            ["--name", name, "--port", String(port), "--post-log", postLog],
            name: "backend-\(name)-\(UUID().uuidString.prefix(4))"
        )
        let line = try await process.waitForLine(startingWith: "listening ")
        let bound = Int(line.dropFirst("listening ".count)) ?? 0
        return TestBackendProcess(name: name, port: bound, process: process, postLog: postLog)
    }

    /// Restarts a killed backend on its old port (same name, same post log).
    func restart(_ backend: TestBackendProcess) async throws -> TestBackendProcess {
        await backend.process.stop()
        return try await startBackend(backend.name, port: backend.port)
    }

    func writeConfig(_ yaml: String, name: String = "balancer.yaml") throws -> String {
        let path = processes.directory.appendingPathComponent(name).path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startBalancer(yaml: String) async throws -> BalancerProcess {
        let path = try writeConfig(yaml)
        let process = try processes.start("steadfast", ["balance", "--config", path, "--log-level", "debug"], name: "balancer")
        let line = try await process.waitForLine(startingWith: "listening ")
        // listening proxy=127.0.0.1:P admin=127.0.0.1:Q
        let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").dropFirst().compactMap { field -> (String, String)? in
            let parts = field.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        })
        func port(_ key: String) -> Int { Int(fields[key]?.split(separator: ":").last ?? "") ?? 0 }
        return BalancerProcess(process: process, proxyPort: port("proxy"), adminPort: port("admin"), configPath: path)
    }

    /// A balancer configuration for `servers` with fast health checks; `extra` is appended,
    /// `admin` (indented keys) is added to the admin section.
    static func config(
        _ servers: [(TestBackendProcess, backup: Bool)],
        extra: String = "",
        healthInterval: String = "300ms",
        admin: String = ""
    ) -> String {
        var yaml = """
            listeners:
              - address: 127.0.0.1:0
            admin:
              address: 127.0.0.1:0
            \(admin)
            event_loops: 2
            health:
              path: /readyz
              interval: \(healthInterval)
              fast_interval: 100ms
              timeout: 500ms
              fall: 2
              rise: 2
            servers:

            """
        for (backend, backup) in servers {
            yaml += "  - name: \(backend.name)\n    address: 127.0.0.1:\(backend.port)\n    backup: \(backup)\n"
        }
        return yaml + extra
    }

    static func config(_ servers: [TestBackendProcess], extra: String = "", healthInterval: String = "300ms", admin: String = "") -> String {
        config(servers.map { ($0, backup: false) }, extra: extra, healthInterval: healthInterval, admin: admin)
    }

    // MARK: HTTP

    struct Reply: Sendable {
        var status: Int
        var backend: String?
        var headers: HTTPHeaders
        var body: String
    }

    func request(
        port: Int,
        _ path: String,
        method: HTTPMethod = .GET,
        headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(
            status: Int(response.status.code),
            backend: response.headers.first(name: "x-backend"),
            headers: response.headers,
            body: String(buffer: bytes)
        )
    }

    // MARK: Admin

    struct ServerList: Decodable {
        var servers: [ServerStatus]
    }

    func servers(_ balancer: BalancerProcess) async throws -> [String: ServerStatus] {
        let reply = try await request(port: balancer.adminPort, "/servers")
        let list = try JSONDecoder().decode(ServerList.self, from: Data(reply.body.utf8))
        return Dictionary(uniqueKeysWithValues: list.servers.map { ($0.name, $0) })
    }

    @discardableResult
    func setServer(_ balancer: BalancerProcess, _ name: String, state: ServerAdminState? = nil, weight: Int? = nil) async throws -> ServerStatus {
        var fields: [String] = []
        if let state { fields.append("\"state\": \"\(state.rawValue)\"") }
        if let weight { fields.append("\"weight\": \(weight)") }
        let reply = try await request(
            port: balancer.adminPort,
            "/servers/\(name)",
            method: .POST,
            headers: [("content-type", "application/json")],
            body: "{\(fields.joined(separator: ", "))}"
        )
        #expect(reply.status == 200, "admin change of \(name): \(reply.body)")
        return try JSONDecoder().decode(ServerStatus.self, from: Data(reply.body.utf8))
    }
}
