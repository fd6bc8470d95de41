import Foundation
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
            Task {
                try await Task.sleep(for: .milliseconds(300))
                engine.retire()
            }
            let read = Task { try await engine.query("SELECT pg_sleep(20)") }
            let transaction = Task { try await engine.transaction { tx in _ = try await tx.query("SELECT pg_sleep(20)") } }
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
            #expect(clock.now - started < .seconds(10))
        }
    }

    @Test func aLeaseWaitingOnAHostThatRefusesConnectionsFailsWhenTheEngineRetires() async throws {
        let port = try FreePort.next()  // nothing listens there
        try await withPostgres(url: "postgres://postgres@127.0.0.1:\(port)/none") { engine in
            let clock = ContinuousClock()
            let started = clock.now
            Task {
                try await Task.sleep(for: .milliseconds(500))
                engine.retire()
            }
            let outcome = await Task { try await engine.query("SELECT 1") }.result
            guard case .failure(let error) = outcome else {
                Issue.record("a query to a closed port succeeded")
                return
            }
            #expect((error as? DatabaseError)?.kind == .connectionFailure, "\(error)")
            #expect((error as? DatabaseError)?.mayHaveCommitted == false)
            #expect(clock.now - started < .seconds(10))
        }
    }
}
