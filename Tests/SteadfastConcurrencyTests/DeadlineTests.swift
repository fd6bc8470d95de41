import SteadfastConcurrency
import SteadfastTestSupport
import Testing

/// `withDeadline` on a virtual clock: the watch's ticks take no real time, so these show what
/// happens at a deadline of 30 s without waiting 30 s, and cannot be starved by a slow machine.
@Suite(.timeLimit(.minutes(1))) struct DeadlineTests {
    /// Work that never ends unless cancelled (a wait on an event nobody fires).
    static func stuck() async -> Int {
        await OneShotEvent().wait()
        return -1
    }

    @Test func anAnswerInTimeIsReturnedAndLeavesNoTimerBehind() async throws {
        let watch = DeadlineWatch(clock: VirtualClock())
        for value in 0..<200 {
            #expect(try await withDeadline(.seconds(5), watch: watch) { value * 2 } == value * 2)
        }
        #expect(watch.pending == 0)
    }

    @Test func stuckWorkFailsAtTheLimitAndIsCancelled() async throws {
        let clock = VirtualClock()
        let watch = DeadlineWatch(clock: clock)
        let cancelled = LockedBox(false)
        await #expect(throws: DeadlineExceeded(.timeLimit, limit: .seconds(30))) {
            _ = try await withDeadline(.seconds(30), watch: watch) {
                await withTaskCancellationHandler { await Self.stuck() } onCancel: { cancelled.with { $0 = true } }
            }
        }
        // At the limit, give or take a tick: not earlier.
        #expect(clock.now.offset >= .seconds(30))
        #expect(clock.now.offset < .seconds(31))
        #expect(await eventually { cancelled.with { $0 } })
    }

    @Test func manyConcurrentDeadlinesEachFireOnce() async throws {
        let watch = DeadlineWatch(clock: VirtualClock())
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<100 {
                group.addTask {
                    do {
                        _ = try await withDeadline(.seconds(2), watch: watch) {
                            index.isMultiple(of: 2) ? await Self.stuck() : index
                        }
                        return true
                    } catch let error as DeadlineExceeded where error.expiry == .timeLimit {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 50)
        #expect(outcomes.filter { !$0 }.count == 50)
        #expect(watch.pending == 0)
    }

    /// What the work runs on was given up on (the database engine's retirement): stuck work fails
    /// at once, long before its deadline; work that finished first is untouched; an event that
    /// already fired fails the next call at once.
    @Test func stuckWorkIsAbandonedWhenItsEventFires() async throws {
        let clock = VirtualClock()
        let watch = DeadlineWatch(clock: clock)
        let event = OneShotEvent()
        #expect(try await withDeadline(.seconds(30), watch: watch, abandonWhen: event) { 7 } == 7)
        let abandoned = Task { try await withDeadline(.seconds(30), watch: watch, abandonWhen: event) { await Self.stuck() } }
        event.fire()
        await #expect(throws: DeadlineExceeded(.abandoned, limit: .seconds(30))) { _ = try await abandoned.value }
        await #expect(throws: DeadlineExceeded(.abandoned, limit: .seconds(30))) {
            _ = try await withDeadline(.seconds(30), watch: watch, abandonWhen: event) { await Self.stuck() }
        }
        #expect(clock.now.offset < .seconds(30))
    }

    @Test func aCancelledCallerGetsCancellationErrorAtOnce() async throws {
        let watch = DeadlineWatch(clock: VirtualClock())
        let caller = Task { try await withDeadline(.seconds(3600), watch: watch) { await Self.stuck() } }
        caller.cancel()
        await #expect(throws: CancellationError.self) { _ = try await caller.value }
    }
}
