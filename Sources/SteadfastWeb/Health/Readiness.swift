import Foundation
import SteadfastConcurrency
import SteadfastPersistence
import Synchronization
import SteadfastDomain

/// Whether this node should receive traffic: it is not draining and every dependency answers.
///
/// Checks run concurrently, each bounded by `timeout` (`withDeadline`), so `/readyz` answers
/// quickly even when a dependency hangs: a check past its limit is reported failing, "no answer
/// within …".
public final class Readiness: Sendable {
    /// The outcome of one check.
    public struct CheckResult: Sendable, Codable, Equatable {
        /// `ok`, `degraded` (usable in part; still ready) or `failing`.
        public var status: String
        public var latencyMs: Double?
        public var error: String?
        public var detail: String?
        public var hosts: [HostStatus]?

        enum CodingKeys: String, CodingKey {
            case status
            case latencyMs = "latency_ms"
            case error, detail, hosts
        }
    }

    /// The whole answer of `/readyz`.
    public struct Report: Sendable, Codable {
        public var status: String
        public var node: String
        public var checks: [String: CheckResult]
        public var failing: [String]
        public var degraded: [String]
        public var ready: Bool { status == "ready" }
    }

    let draining: DrainState
    let checks: [ReadinessCheck]
    let timeout: Duration
    /// What each check's `timeout` is measured on: `ContinuousClock` in production.
    let clock: any Clock<Duration>
    let nodeID: String

    /// `draining` is the node's ``DrainState``, which the ``DrainService`` sets on shutdown.
    public init(
        nodeID: String, checks: [ReadinessCheck], timeout: Duration = .seconds(2), clock: any Clock<Duration> = ContinuousClock(),
        draining: DrainState = DrainState()
    ) {
        self.nodeID = nodeID
        self.checks = checks
        self.timeout = timeout
        self.clock = clock
        self.draining = draining
    }

    public var isDraining: Bool { draining.isDraining }

    /// Runs every check and reports.
    public func report() async -> Report {
        let timeout = self.timeout
        let clock = self.clock
        var results: [String: CheckResult] = [:]
        await withTaskGroup(of: (String, CheckResult).self) { group in
            for check in checks {
                group.addTask {
                    let start = ContinuousClock.now
                    do {
                        // The one deadline helper: at the limit the check is cancelled, and
                        // reported failing once it has ended (checks end when cancelled).
                        let outcome = try await withDeadline(timeout, clock: clock, check.run)
                        let elapsed = ContinuousClock.now - start
                        let ms = elapsed.totalSeconds * 1000
                        return (check.name, CheckResult(
                            status: outcome.degraded == nil ? "ok" : "degraded", latencyMs: (ms * 100).rounded() / 100,
                            detail: outcome.degraded, hosts: outcome.hosts
                        ))
                    } catch let failure as ReadinessCheck.Failure {
                        return (check.name, CheckResult(status: "failing", error: failure.description, hosts: failure.hosts))
                    } catch {
                        return (check.name, CheckResult(status: "failing", error: "\(error)"))
                    }
                }
            }
            for await (name, result) in group { results[name] = result }
        }
        let failing = results.filter { $0.value.status == "failing" }.map(\.key).sorted()
        let degraded = results.filter { $0.value.status == "degraded" }.map(\.key).sorted()
        let status = isDraining ? "draining" : (failing.isEmpty ? "ready" : "unavailable")
        return Report(status: status, node: nodeID, checks: results, failing: failing, degraded: degraded)
    }
}
