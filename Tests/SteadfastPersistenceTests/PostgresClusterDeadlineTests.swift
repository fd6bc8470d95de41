import Foundation
import Logging
import Synchronization
@testable import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The PostgreSQL client's bounds run on its injected deadline clock (`ContinuousClock` in
/// production): the request bound while no host can take the work, and a statement's deadline
/// on the host that runs it. Each test moves a `ManualClock` to just short of the bound (nothing
/// ends) and then to it (the caller hears at once), so no test waits for a bound in real time.
@Suite(.serialized, .timeLimit(.minutes(2))) struct PostgresClusterDeadlineTests {
    /// What the work in the background ended with, once it has.
    final class Outcome: Sendable {
        private let value = Mutex<Result<Void, any Error>?>(nil)
        var result: Result<Void, any Error>? { value.withLock { $0 } }
        func record(_ result: Result<Void, any Error>) { value.withLock { $0 = result } }
        var databaseError: DatabaseError? {
            guard case .failure(let error as DatabaseError) = result else { return nil }
            return error
        }
    }

    /// Runs `body` beside a cluster on `url`: the role monitor on a clock nobody moves (it probes
    /// once at start and when asked), every bound on `deadlines`.
    static func withCluster<T: Sendable>(
        _ url: String, requestTimeout: Duration, deadlines: ManualClock, _ body: @Sendable (PostgresCluster) async throws -> T
    ) async throws -> T {
        guard case .postgres(let target) = try DatabaseURL(url) else { throw HarnessError("not postgres") }
        let cluster = PostgresCluster(
            target: target, maximumConnections: 2, requestTimeout: requestTimeout, clock: ManualClock(), deadlineClock: deadlines.steady,
            logger: Logger(label: "test")
        )
        return try await whileRunning(cluster, body)
    }

    /// Runs `work` in a child task while `body` watches it; the outcome is recorded when it ends.
    static func watching(
        _ work: @escaping @Sendable () async throws -> Void, _ body: @Sendable (Outcome) async throws -> Void
    ) async throws {
        let outcome = Outcome()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await work(); outcome.record(.success(())) } catch { outcome.record(.failure(error)) }
            }
            try await body(outcome)
            try await group.waitForAll()
        }
    }

    /// No server on the host's port: the write waits for a primary until the bound has passed on
    /// the deadline clock, 30 s of it, and not a moment sooner, then fails as unreachable.
    @Test func theWaitForAUsableHostEndsAtTheRequestBoundOnTheDeadlineClock() async throws {
        let deadlines = ManualClock()
        let port = try FreePort.next()
        try await Self.withCluster("postgres://steadfast:secret@127.0.0.1:\(port)/nothing", requestTimeout: .seconds(30), deadlines: deadlines) { cluster in
            try await Self.watching({ try await cluster.query("SELECT 1 AS one") }) { outcome in
                // Asleep on the deadline clock for the whole bound (a probe's limit is 1 s of it).
                try await waitUntil("the wait for a host asleep on the deadline clock") { deadlines.isSleeping(for: .seconds(30)) }
                #expect(outcome.result == nil)
                deadlines.advance(by: .seconds(29))
                // Whatever woke it since (a probe's result), it sleeps again on the same clock.
                try await waitUntil("the wait for a host asleep again") { outcome.result != nil || deadlines.sleepers > 0 }
                #expect(outcome.result == nil, "the write ended before its bound: \(String(describing: outcome.result))")
                deadlines.advance(by: .seconds(1))
                try await waitUntil("the write to give up", timeout: .seconds(30)) { outcome.result != nil }
                let error = try #require(outcome.databaseError, "\(String(describing: outcome.result))")
                #expect(error.kind == .connectionFailure)
                #expect(error.message == "no primary database server is reachable")
                #expect(await cluster.hostStatuses().map(\.role) == ["unreachable"])
            }
        }
    }

    /// A statement that runs on the primary past its bound: its deadline is on the cluster's
    /// deadline clock (handed to each host's engine), so it runs on until that clock reaches the
    /// bound, and the caller then hears a timeout at once.
    @Test func aStatementsDeadlineIsTheRequestBoundOnTheDeadlineClock() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        let deadlines = ManualClock()
        try await Self.withCluster(server.url(database: name), requestTimeout: .seconds(20), deadlines: deadlines) { cluster in
            // The monitor's first probe finds the primary; none follows (its clock never moves).
            try await waitUntil("the primary found", timeout: .seconds(60)) { cluster.canWrite }
            let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)' AND state = 'active' AND query LIKE '%pg_sleep%'"
            try await Self.watching({ try await cluster.query("SELECT pg_sleep(3600)") }) { outcome in
                try await waitUntil("the statement running", timeout: .seconds(60)) { try await server.psql(sleeping) == "1" }
                try await waitUntil("its deadline asleep on the clock") { deadlines.isSleeping(for: .seconds(20)) }
                #expect(deadlines.sleepers == 1)
                deadlines.advance(by: .milliseconds(19_900))
                #expect(outcome.result == nil)
                #expect(try await server.psql(sleeping) == "1")
                deadlines.advance(by: .milliseconds(100))
                try await waitUntil("the statement to be given up", timeout: .seconds(30)) { outcome.result != nil }
                let error = try #require(outcome.databaseError, "\(String(describing: outcome.result))")
                #expect(error.kind == .timeout)
                // The engine closed the statement's connection; the server notices only when
                // pg_sleep ends, so the test ends that backend itself.
                _ = try await server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND query LIKE '%pg_sleep%'")
            }
        }
    }
}
