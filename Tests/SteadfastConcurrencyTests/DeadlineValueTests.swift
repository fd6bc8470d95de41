import SteadfastConcurrency
import SteadfastTestSupport
import Testing

/// `Deadline`, an instant on an injected clock: what is left of it, when it has passed, and a
/// sleep that ends there. On a `VirtualClock` (a sleep jumps its time) and a `ManualClock` (a
/// sleep waits for the test), so nothing here waits in real time.
@Suite(.timeLimit(.minutes(1))) struct DeadlineValueTests {
    @Test func whatIsLeftCountsDownWithTheClockAndPassesAtTheLimit() {
        let clock = VirtualClock()
        clock.advance(by: .seconds(7))  // made at a time other than zero: counted from then
        let deadline = Deadline(after: .seconds(10), on: clock)
        #expect(deadline.remaining == .seconds(10) && !deadline.hasPassed)
        clock.advance(by: .milliseconds(9_999))
        #expect(deadline.remaining == .milliseconds(1) && !deadline.hasPassed)
        clock.advance(by: .milliseconds(1))
        #expect(deadline.remaining == .zero && deadline.hasPassed)
        clock.advance(by: .seconds(5))
        #expect(deadline.remaining == .seconds(-5) && deadline.hasPassed)
    }

    @Test func aSleepEndsAtTheDeadlineAndOnceItHasPassedDoesNotSleep() async throws {
        let clock = VirtualClock()
        let deadline = Deadline(after: .seconds(30), on: clock)
        clock.advance(by: .seconds(12))
        try await deadline.sleepUntilPassed()
        #expect(clock.now.offset == .seconds(30) && clock.sleeps == 1)
        try await deadline.sleepUntilPassed()
        #expect(clock.now.offset == .seconds(30) && clock.sleeps == 1)
    }

    /// On a clock nobody moves, the sleep waits for exactly what is left, until the clock gets
    /// there; cancelling the sleeper ends it with `CancellationError`.
    @Test func aSleepWaitsForWhatIsLeftAndCancellationEndsIt() async throws {
        let manual = ManualClock()
        let deadline = Deadline(after: .seconds(90), on: manual.steady)
        manual.advance(by: .seconds(30))
        let sleeper = Task { try await deadline.sleepUntilPassed() }
        try await waitUntil("the sleep on the clock") { manual.isSleeping(for: .seconds(60)) }
        manual.advance(by: .seconds(59))
        #expect(manual.isSleeping(for: .seconds(60)))
        manual.advance(by: .seconds(1))
        try await sleeper.value

        let cancelled = Task { try await Deadline(after: .seconds(5), on: manual.steady).sleepUntilPassed() }
        try await waitUntil("the second sleep on the clock") { manual.isSleeping(for: .seconds(5)) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(manual.sleepers == 0)
    }

    @Test func aPassedDeadlineInACancelledTaskThrowsRatherThanReturning() async {
        let clock = VirtualClock()
        let deadline = Deadline(after: .zero, on: clock)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await deadline.sleepUntilPassed()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
