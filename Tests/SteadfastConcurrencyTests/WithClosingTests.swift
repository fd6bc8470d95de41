import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// `withClosing`: the close runs after the body — returned, thrown or cancelled — in the
/// caller's own task, and has finished when the call returns; the body's error wins over the
/// close's.
@Suite(.timeLimit(.minutes(1))) struct WithClosingTests {
    struct BodyFailed: Error {}
    struct CloseFailed: Error {}

    /// The current task, as a number to compare (the task itself must not escape).
    static func currentTask() -> Int? { withUnsafeCurrentTask { $0?.hashValue } }

    @Test func closesAfterASuccessfulBodyAndReturnsItsValue() async throws {
        let log = LockedBox<[String]>([])
        let value = try await withClosing({
            await Task.yield()  // an asynchronous close, awaited before the call returns
            log.with { $0.append("close") }
        }) {
            log.with { $0.append("body") }
            return 42
        }
        #expect(value == 42)
        #expect(log.value == ["body", "close"])
    }

    @Test func closesAfterAThrowingBodyAndRethrowsItsError() async throws {
        let closed = LockedBox(0)
        await #expect(throws: BodyFailed.self) {
            try await withClosing({ closed.with { $0 += 1 } }) { () async throws -> Int in throw BodyFailed() }
        }
        #expect(closed.value == 1)
        // The body's error wins over the close's.
        await #expect(throws: BodyFailed.self) {
            try await withClosing({ closed.with { $0 += 1 }; throw CloseFailed() }) { () async throws -> Int in throw BodyFailed() }
        }
        #expect(closed.value == 2)
        // A failing close is told when the body succeeded.
        await #expect(throws: CloseFailed.self) {
            try await withClosing({ throw CloseFailed() }) { 1 }
        }
    }

    /// The caller is cancelled while the body waits: the body ends, the close still runs (and
    /// can await), and it has run by the time the caller's task ends.
    @Test func closesWhenTheCallerIsCancelled() async throws {
        let bodyStarted = OneShotEvent()
        let closed = LockedBox(false)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await #expect(throws: CancellationError.self) {
                    try await withClosing({
                        await Task.yield()
                        closed.with { $0 = true }
                    }) {
                        bodyStarted.fire()
                        await OneShotEvent().wait()  // returns once the task is cancelled
                        try Task.checkCancellation()
                    }
                }
                #expect(closed.value)
            }
            await bodyStarted.wait()
            #expect(!closed.value)
            group.cancelAll()
        }
        #expect(closed.value)
    }

    /// The close runs in the caller's task, not in a task of its own that nobody awaits.
    @Test func closesInTheCallersTask() async throws {
        let caller = Self.currentTask()
        let closedIn = LockedBox<Int?>(nil)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let child = Self.currentTask()
                _ = try? await withClosing({ closedIn.with { $0 = Self.currentTask() } }) { () async throws -> Int in throw BodyFailed() }
                #expect(closedIn.value == child)
            }
        }
        try await withClosing({ closedIn.with { $0 = Self.currentTask() } }) {}
        #expect(caller != nil && closedIn.value == caller)
    }
}
