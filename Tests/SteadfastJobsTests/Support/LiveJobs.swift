import Foundation
import Logging
import SteadfastPersistence
import SteadfastTestSupport

/// Helpers for live tests of real `steadfast serve` processes running the scheduler.
enum LiveJobs {
    /// Scheduler settings short enough for tests: a 2 s lease, polling every 200 ms.
    static let fastScheduler = ["--set", "jobs.lease=2s", "--set", "jobs.poll_interval=200ms", "--set", "jobs.shutdown_grace=1s"]

    /// Starts `names.count` nodes at once on `database`.
    static func start(_ names: [String], database: String?, arguments: [String], workingDirectory: URL? = nil) async throws -> [String: SteadfastNode] {
        try await withThrowingTaskGroup(of: (String, SteadfastNode).self) { group in
            for name in names {
                group.addTask { (name, try await SteadfastNode.start(name: name, database: database, arguments: arguments, workingDirectory: workingDirectory)) }
            }
            var nodes: [String: SteadfastNode] = [:]
            for try await (name, node) in group { nodes[name] = node }
            return nodes
        }
    }

    /// SIGTERM to every node at once; returns their exit statuses.
    static func stopAll(_ nodes: some Collection<SteadfastNode>) async throws -> [Int32] {
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for node in nodes { group.addTask { try await node.stop() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// One value from a node's `/metrics` (0 if the series is not there yet).
    static func metric(_ node: SteadfastNode, _ series: String) async throws -> Double {
        let text = try await node.client().get("/metrics").body
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }

    /// Runs `body` with the node's SQLite database opened in this process (WAL: both may use it).
    static func withSQLite<T: Sendable>(_ path: String, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        var logger = Logger(label: "test.sqlite")
        logger.logLevel = .critical
        let engine = try await SQLiteEngine.open(path: path, logger: logger)
        do {
            let result = try await body(engine)
            try await engine.close()
            return result
        } catch {
            try? await engine.close()
            throw error
        }
    }

    /// Runs `steadfast ARGS` to completion; returns (exit status, stdout, stderr).
    static func command(_ arguments: [String], directory: URL) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try ManagedProcess(
            name: "cli-\(UUID().uuidString.prefix(6))", executable: TestPaths.steadfastBinary, arguments: arguments, logDirectory: directory
        )
        let status = try await process.waitForExit(timeout: .seconds(120))
        return (status, process.stdout, process.stderr)
    }

    /// The CSRF token in an HTML page's first form.
    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
