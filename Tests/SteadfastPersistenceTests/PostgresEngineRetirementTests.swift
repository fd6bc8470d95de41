import Foundation
import Logging
@testable import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The cluster gives up on a host by retiring its engine, and relies on that to free every
/// request waiting there at once, so it can retry a read elsewhere: a statement in flight and a
/// connection lease waiting on a host that refuses connections both fail within moments, not at
/// the request deadline, and say whether they may have committed.
@Suite(.timeLimit(.minutes(2))) struct PostgresEngineRetirementTests {
    @Test func statementsInFlightFailAtOnceWhenTheEngineRetires() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        try await withPostgres(url: server.url(database: name)) { engine in
            let one = try await engine.query("SELECT 1 AS one").first?.int("one")
            #expect(one == 1)
            let clock = ContinuousClock()
            let started = clock.now
            let read = Task { try await engine.query("SELECT pg_sleep(20)") }
            let transaction = Task { try await engine.transaction { tx in _ = try await tx.query("SELECT pg_sleep(20)") } }
            // Retire once the server is running both statements.
            let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)' AND state = 'active' AND query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()"
            try await waitUntil("both statements run on the server", timeout: .seconds(20), interval: .milliseconds(20)) {
                try await server.psql(sleeping) == "2"
            }
            // Timed from the retirement, not from before the set-up, which a loaded machine can
            // stretch (two connections, a psql per look): the failures come at once after it.
            let retired = clock.now
            engine.retire()
            for outcome in [await read.result.map { _ in () }, await transaction.result] {
                guard case .failure(let error) = outcome else {
                    Issue.record("a statement on a retired engine succeeded")
                    continue
                }
                #expect((error as? DatabaseError)?.kind == .connectionFailure, "\(error)")
            }
            // The statement had been sent; COMMIT never was, so the transaction certainly did
            // not commit.
            if case .failure(let error) = await read.result {
                #expect((error as? DatabaseError)?.mayHaveCommitted == true)
            }
            if case .failure(let error) = await transaction.result {
                #expect((error as? DatabaseError)?.mayHaveCommitted == false)
            }
            #expect(clock.now - retired < .seconds(10))
            // And before the statements could have ended by themselves.
            #expect(clock.now - started < .seconds(20))
        }
    }

    @Test func aLeaseWaitingOnAHostThatRefusesConnectionsFailsWhenTheEngineRetires() async throws {
        let port = try FreePort.next()  // nothing listens there
        // The pool opens connections only for waiting leases (no minimum), and logs each refusal.
        let logs = LogCapture()
        let logger = Logger(label: "retirement-test") { _ in CapturingLogHandler(capture: logs) }
        try await withPostgres(url: "postgres://postgres@127.0.0.1:\(port)/none", logger: logger) { engine in
            let clock = ContinuousClock()
            let started = clock.now
            let query = Task { try await engine.query("SELECT 1") }
            // Retire once the lease is waiting: the pool tried to connect for it and was refused.
            try await waitUntil("the pool reports a refused connection", timeout: .seconds(20), interval: .milliseconds(10)) {
                logs.records.contains { $0.message == "Connection creation failed" }
            }
            let retired = clock.now
            engine.retire()
            let outcome = await query.result
            guard case .failure(let error) = outcome else {
                Issue.record("a query to a closed port succeeded")
                return
            }
            #expect((error as? DatabaseError)?.kind == .connectionFailure, "\(error)")
            #expect((error as? DatabaseError)?.mayHaveCommitted == false)
            // At once after the retirement, not at the 30 s statement deadline.
            #expect(clock.now - retired < .seconds(10))
            #expect(clock.now - started < .seconds(30))
        }
    }

    /// The retirement closes a connection that is lent but has not carried a statement yet (the
    /// caller's task has not run since the lease). PostgresNIO drops a query written to a channel
    /// that has finished closing, and its answer never comes: had the engine sent it, this would
    /// wait until the suite's time limit. It fails at once instead, as certainly not sent, so
    /// the cluster may retry it on another host.
    @Test func aStatementOnAConnectionClosedByTheRetirementFailsAsNotSent() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        try await withPostgres(url: server.url(database: name)) { engine in
            try await engine.withConnection { connection in
                engine.retire()
                // Completes once the channel has dropped its handlers (NIO succeeds the close
                // future right after removing them), so a write now would be dropped.
                try? await connection.closeFuture.get()
                do {
                    _ = try await PostgresEngine.run("SELECT 1", on: connection, logger: Logger(label: "test"))
                    Issue.record("a statement on a closed connection succeeded")
                } catch let error as DatabaseError {
                    #expect(error.kind == .connectionFailure, "\(error)")
                    #expect(error.mayHaveCommitted == false)
                }
            }
        }
    }
}
