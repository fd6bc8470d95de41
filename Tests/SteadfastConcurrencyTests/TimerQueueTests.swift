import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// `TimerQueue`: timers fire once their time has passed on the injected clock (a `ManualClock`
/// the test moves), never before, never after being cancelled, and many bounds started one after
/// another keep one sleep on the clock, not one each.
@Suite(.timeLimit(.minutes(1))) struct TimerQueueTests {
    /// What fired, in order.
    final class Fired: Sendable {
        private let names = Mutex<[String]>([])
        func record(_ name: String) { names.withLock { $0.append(name) } }
        var value: [String] { names.withLock { $0 } }
    }

    /// Runs `body` while `queue` is served; stops the queue after it.
    static func serving(_ queue: TimerQueue, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            try await body()
            group.cancelAll()
        }
    }

    @Test func timersFireWhenTheirTimePassesOnTheClockAndNotBefore() async throws {
        let clock = ManualClock()
        let queue = TimerQueue(clock: clock.steady)
        let fired = Fired()
        try await Self.serving(queue) {
            _ = queue.schedule(after: .seconds(20)) { fired.record("twenty") }
            _ = queue.schedule(after: .seconds(5)) { fired.record("five") }
            _ = queue.schedule(after: .seconds(20)) { fired.record("twenty again") }
            try await waitUntil("a wake-up asleep for the earliest timer") { clock.isSleeping(for: .seconds(5)) }
            clock.advance(by: .milliseconds(4_999))
            for _ in 0..<50 { await Task.yield() }
            #expect(fired.value.isEmpty)
            clock.advance(by: .milliseconds(1))
            try await waitUntil("the 5 s timer to fire") { fired.value == ["five"] }
            // The next wake-up is for the 20 s timers, 15 s on.
            try await waitUntil("a wake-up asleep for the next timer") { clock.isSleeping(for: .seconds(15)) }
            #expect(fired.value == ["five"])
            clock.advance(by: .seconds(15))
            try await waitUntil("both 20 s timers to fire") { fired.value.count == 3 }
            #expect(Set(fired.value.dropFirst()) == ["twenty", "twenty again"])
            #expect(queue.pendingCount == 0)
        }
    }

    @Test func aCancelledTimerNeverFires() async throws {
        let clock = ManualClock()
        let queue = TimerQueue(clock: clock.steady)
        let fired = Fired()
        try await Self.serving(queue) {
            let cancelled = queue.schedule(after: .seconds(2)) { fired.record("cancelled") }
            _ = queue.schedule(after: .seconds(3)) { fired.record("kept") }
            #expect(queue.cancel(cancelled))
            #expect(!queue.cancel(cancelled))
            try await waitUntil("a wake-up asleep") { clock.isSleeping(for: .seconds(2)) }
            clock.advance(by: .seconds(2))
            try await waitUntil("the next wake-up asleep") { clock.isSleeping(for: .seconds(1)) }
            clock.advance(by: .seconds(1))
            try await waitUntil("the kept timer to fire") { fired.value == ["kept"] }
        }
        #expect(fired.value == ["kept"])
    }

    /// The reason for the queue: a bound per statement, thousands a second, each ended in time,
    /// costs no task and no sleep of its own.
    @Test func manyBoundsStartedInTurnShareOneSleepOnTheClock() async throws {
        let clock = ManualClock()
        let queue = TimerQueue(clock: clock.steady)
        let fired = Fired()
        try await Self.serving(queue) {
            let first = queue.schedule(after: .seconds(2)) { fired.record("first") }
            try await waitUntil("a wake-up asleep") { clock.sleepers == 1 }
            var timers = [first]
            for number in 0..<500 {
                timers.append(queue.schedule(after: .seconds(2)) { fired.record("\(number)") })
            }
            for _ in 0..<50 { await Task.yield() }
            #expect(clock.sleepers == 1)
            #expect(queue.pendingCount == 501)
            for timer in timers { #expect(queue.cancel(timer)) }
            #expect(queue.pendingCount == 0)
            clock.advance(by: .seconds(2))
            // The wake-up finds nothing due and arms nothing more.
            try await waitUntil("the wake-up spent") { clock.sleepers == 0 }
            for _ in 0..<50 { await Task.yield() }
            #expect(clock.sleepers == 0)
        }
        #expect(fired.value.isEmpty)
    }

    @Test func timersScheduledBeforeTheQueueRunsFireOnceItDoes() async throws {
        let clock = ManualClock()
        let queue = TimerQueue(clock: clock.steady)
        let fired = Fired()
        _ = queue.schedule(after: .seconds(1)) { fired.record("early") }
        _ = queue.schedule(after: .seconds(3)) { fired.record("later") }
        clock.advance(by: .seconds(2))  // the first is overdue by the time the queue runs
        try await Self.serving(queue) {
            try await waitUntil("the overdue timer to fire") { fired.value == ["early"] }
            try await waitUntil("a wake-up asleep for the other") { clock.isSleeping(for: .seconds(1)) }
            clock.advance(by: .seconds(1))
            try await waitUntil("the other to fire") { fired.value == ["early", "later"] }
        }
    }

    @Test func aStoppedQueueLeavesNothingAsleepAndFiresNothing() async throws {
        let clock = ManualClock()
        let queue = TimerQueue(clock: clock.steady)
        let fired = Fired()
        try await Self.serving(queue) {
            _ = queue.schedule(after: .seconds(1)) { fired.record("never") }
            try await waitUntil("a wake-up asleep") { clock.sleepers == 1 }
        }
        #expect(clock.sleepers == 0)
        clock.advance(by: .seconds(5))
        for _ in 0..<50 { await Task.yield() }
        #expect(fired.value.isEmpty)
    }
}
