@testable import SteadfastPersistence
import SteadfastConcurrency
import SteadfastTestSupport
import Testing

/// `withDatabaseDeadline`: the deadline helper's expiry told as a `DatabaseError` (the helper
/// itself is tested in SteadfastConcurrencyTests). The work has ended when the caller hears, so
/// whether it may have committed is what the work itself said once cancelled.
@Suite(.timeLimit(.minutes(1))) struct DatabaseDeadlineTests {
    static func expired(_ underlying: @escaping @Sendable () throws -> Void) async -> DatabaseError? {
        do {
            _ = try await withDatabaseDeadline(.seconds(30), clock: VirtualClock()) { () async throws -> Int in
                await OneShotEvent().wait()  // returns when cancelled
                try underlying()
                return 1
            }
            return nil
        } catch {
            return error as? DatabaseError
        }
    }

    @Test func anExpiryIsATimeoutThatMayHaveCommittedOnlyIfTheWorkSaysSo() async throws {
        // Cancelled before anything was sent (waiting for a connection, or before a statement).
        let beforeSending = await Self.expired { throw CancellationError() }
        #expect(beforeSending?.kind == .timeout)
        #expect(beforeSending?.mayHaveCommitted == false)
        // The limit told in the one duration grammar.
        #expect(beforeSending?.message == "no answer from the database within 30s")
        // The work's own account: a statement in flight whose connection was closed.
        let sent = await Self.expired { throw DatabaseError(.connectionFailure, message: "closed", mayHaveCommitted: true) }
        #expect(sent?.kind == .timeout)
        #expect(sent?.mayHaveCommitted == true)
        let notSent = await Self.expired { throw DatabaseError(.connectionFailure, message: "closed", mayHaveCommitted: false) }
        #expect(notSent?.mayHaveCommitted == false)
        // Anything unknown counts as perhaps committed.
        struct Unknown: Error {}
        #expect(await Self.expired { throw Unknown() }?.mayHaveCommitted == true)
    }

    @Test func errorsInTimePassThrough() async throws {
        await #expect {
            _ = try await withDatabaseDeadline(.seconds(30), clock: ContinuousClock()) { () async throws -> Int in throw DatabaseError(.uniqueViolation, message: "x") }
        } throws: { error in
            (error as? DatabaseError)?.kind == .uniqueViolation
        }
    }
}
