import Foundation
import Synchronization

/// Whether this node should receive traffic: it is not draining and every dependency answers.
///
/// Checks run concurrently, each bounded by `timeout`, so `/readyz` answers quickly even when a
/// dependency hangs.
public final class Readiness: Sendable {
    /// The outcome of one check.
    public struct CheckResult: Sendable, Codable, Equatable {
        public var status: String
        public var latencyMs: Double?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case status
            case latencyMs = "latency_ms"
            case error
        }
    }

    /// The whole answer of `/readyz`.
    public struct Report: Sendable, Codable {
        public var status: String
        public var node: String
        public var checks: [String: CheckResult]
        public var failing: [String]
        public var ready: Bool { status == "ready" }
    }

    private let draining = Mutex(false)
    let checks: [ReadinessCheck]
    let timeout: Duration
    let nodeID: String

    public init(nodeID: String, checks: [ReadinessCheck], timeout: Duration = .seconds(2)) {
        self.nodeID = nodeID
        self.checks = checks
        self.timeout = timeout
    }

    /// From now on `/readyz` answers 503 `draining`, while requests are still served.
    public func startDraining() {
        draining.withLock { $0 = true }
    }

    public var isDraining: Bool { draining.withLock { $0 } }

    /// Runs every check and reports.
    public func report() async -> Report {
        let timeout = self.timeout
        var results: [String: CheckResult] = [:]
        await withTaskGroup(of: (String, CheckResult).self) { group in
            for check in checks {
                group.addTask {
                    let start = ContinuousClock.now
                    do {
                        try await Self.bounded(timeout, check.run)
                        let elapsed = ContinuousClock.now - start
                        let ms = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                        return (check.name, CheckResult(status: "ok", latencyMs: (ms * 100).rounded() / 100))
                    } catch {
                        return (check.name, CheckResult(status: "failing", error: "\(error)"))
                    }
                }
            }
            for await (name, result) in group { results[name] = result }
        }
        let failing = results.filter { $0.value.status != "ok" }.map(\.key).sorted()
        let status = isDraining ? "draining" : (failing.isEmpty ? "ready" : "unavailable")
        return Report(status: status, node: nodeID, checks: results, failing: failing)
    }

    /// Runs `operation` but gives up (without waiting for it) after `limit`.
    static func bounded(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await operation(); return true }
            group.addTask { try? await Task.sleep(for: limit); return false }
            let first = try await group.next()!
            group.cancelAll()
            if !first { throw TimeoutError(limit: limit) }
        }
    }

    struct TimeoutError: Error, CustomStringConvertible {
        let limit: Duration
        var description: String { "no answer within \(limit)" }
    }
}
