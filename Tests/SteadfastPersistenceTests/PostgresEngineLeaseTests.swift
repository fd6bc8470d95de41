import Foundation
import Logging
@testable import SteadfastPersistence
import SteadfastConcurrency
import SteadfastTestSupport
import Testing

/// Waiting for a pooled connection (the engine's lease, `PostgresEngine.withConnection`): it
/// ends when the caller's time limit passes, whatever the pool does; a cancelled lease gives its
/// connection back to the pool when it comes; and a retired engine fails a lease at once, without
/// calling into the pool.
@Suite(.timeLimit(.minutes(2))) struct PostgresEngineLeaseTests {
    static func engine(_ url: String, connections: Int = 2, clock: any Clock<Duration> = ContinuousClock()) throws -> PostgresEngine {
        guard case .postgres(let target) = try DatabaseURL(url) else { throw HarnessError("not a postgres URL") }
        return PostgresEngine(
            endpoint: target.endpoints[0], maximumConnections: connections, statementTimeout: .seconds(30), clock: clock, logger: Logger(label: "test")
        )
    }

    /// Neither of these engines ever runs, so the pool behind them would queue a lease forever.
    @Test func aLeaseOnARetiredEngineFailsAtOnce() async throws {
        let port = try FreePort.next()  // nothing listens there
        let engine = try Self.engine("postgres://postgres@127.0.0.1:\(port)/none")
        engine.retire()
        // Had either waited on the pool (which never runs), it would still be waiting (the time
        // limit needs the engine to run, see below): this failed at once.
        for work in 0..<2 {
            do {
                if work == 0 {
                    try await engine.query("SELECT 1")
                } else {
                    try await engine.transaction { tx in _ = try await tx.query("SELECT 1") }
                }
                Issue.record("work on a retired engine succeeded")
            } catch let error as DatabaseError {
                #expect(error.kind == .connectionFailure, "\(error)")
                #expect(error.mayHaveCommitted == false)
            }
        }
    }

    /// A statement's time limit is served by the engine's `run()` (its timer queue), as the pool
    /// is: on an engine that never runs, a lease waits past its limit until the engine retires
    /// (the cluster retires at once an engine it can no longer run), and then fails at once as
    /// not committed.
    @Test func aLeaseOnAnEngineThatNeverRunsWaitsUntilItRetires() async throws {
        let port = try FreePort.next()
        let clock = ManualClock()
        let engine = try Self.engine("postgres://postgres@127.0.0.1:\(port)/none", clock: clock.steady)
        let outcome = LockedBox<Result<Void, any Error>?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await engine.query("SELECT 1", within: .milliseconds(200)); outcome.with { $0 = .success(()) } } catch { outcome.with { $0 = .failure(error) } }
            }
            clock.advance(by: .seconds(1))
            for _ in 0..<200 { await Task.yield() }
            #expect(outcome.value == nil, "the lease ended without the engine running: \(String(describing: outcome.value))")
            engine.retire()
            try await group.waitForAll()
        }
        guard case .failure(let error as DatabaseError)? = outcome.value else {
            Issue.record("expected a database error, got \(String(describing: outcome.value))")
            return
        }
        #expect(error.kind == .connectionFailure, "\(error)")
        #expect(error.mayHaveCommitted == false, "nothing was sent: \(error)")
        // Retired, it fails the next lease at once.
        await #expect(throws: DatabaseError.self) { try await engine.query("SELECT 1") }
    }

    /// A pool of 2, both connections held: 8 queries give up waiting for a connection at their
    /// deadline. The connections their leases get later go straight back to the pool, so once
    /// the holders finish, 8 concurrent queries all succeed on the same 2 connections.
    @Test func cancelledLeasesGiveTheirConnectionsBack() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "lease")
        let engine = try Self.engine(server.url(database: name), connections: 2)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await engine.run() }
            defer { engine.retire() }

            let release = OneShotEvent()
            let (held, heldContinuation) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { holders in
                for _ in 0..<2 {
                    holders.addTask {
                        try await engine.transaction { tx in
                            _ = try await tx.query("SELECT 1")
                            heldContinuation.yield()
                            await release.wait()
                        }
                    }
                }
                var heldCount = 0
                for await _ in held {
                    heldCount += 1
                    if heldCount == 2 { break }
                }

                // (Were a cancelled lease to hold its caller until a connection came, this
                // would wait for the holders, which wait for it: the suite's time limit.)
                let outcomes = await withTaskGroup(of: (any Error)?.self) { waiters in
                    for _ in 0..<8 {
                        waiters.addTask {
                            do {
                                try await engine.query("SELECT 1", within: .milliseconds(300))
                                return nil
                            } catch {
                                return error
                            }
                        }
                    }
                    return await waiters.reduce(into: [(any Error)?]()) { $0.append($1) }
                }
                for outcome in outcomes {
                    let error = try #require(outcome as? DatabaseError, "a query got a connection the holders had: \(String(describing: outcome))")
                    #expect(error.kind == .timeout)
                    #expect(error.mayHaveCommitted == false, "it never reached a connection: \(error)")
                }

                release.fire()
                try await holders.waitForAll()
            }

            let answers = try await withThrowingTaskGroup(of: Int64?.self) { queries in
                for _ in 0..<8 {
                    queries.addTask { try await engine.query("SELECT 1 AS one", within: .seconds(20)).first?.int("one") }
                }
                return try await queries.reduce(into: [Int64?]()) { $0.append($1) }
            }
            #expect(answers == Array(repeating: 1, count: 8))
            let connections = try await server.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)'")
            #expect(Int(connections) ?? 99 <= 2, "the pool of 2 has \(connections) connections")
        }
    }
}
