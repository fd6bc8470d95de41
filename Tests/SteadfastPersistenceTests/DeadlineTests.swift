@testable import SteadfastPersistence
import SteadfastConcurrency
import Testing

/// `withDatabaseDeadline`: the deadline helper's expiry told as a `DatabaseError` (the helper
/// itself is tested in SteadfastConcurrencyTests, on a virtual clock).
@Suite(.timeLimit(.minutes(1))) struct DatabaseDeadlineTests {
    @Test func aLateAnswerIsATimeoutThatMayHaveCommitted() async throws {
        await #expect {
            _ = try await withDatabaseDeadline(.milliseconds(50)) {
                await OneShotEvent().wait()
                return 1
            }
        } throws: { error in
            (error as? DatabaseError)?.kind == .timeout && (error as? DatabaseError)?.mayHaveCommitted == true
        }
    }

    /// A host given up on fails the work on it as a connection failure, saying whether it may
    /// have committed as `mayHaveCommitted` answers at that moment; other errors pass through.
    @Test func abandonedWorkIsAConnectionFailure() async throws {
        for committed in [false, true] {
            let event = OneShotEvent()
            event.fire()
            await #expect {
                _ = try await withDatabaseDeadline(.seconds(30), abandonWhen: event, mayHaveCommitted: { committed }) {
                    await OneShotEvent().wait()
                    return 1
                }
            } throws: { error in
                (error as? DatabaseError)?.kind == .connectionFailure && (error as? DatabaseError)?.mayHaveCommitted == committed
            }
        }
        await #expect {
            _ = try await withDatabaseDeadline(.seconds(30)) { () async throws -> Int in throw DatabaseError(.uniqueViolation, message: "x") }
        } throws: { error in
            (error as? DatabaseError)?.kind == .uniqueViolation
        }
    }
}
