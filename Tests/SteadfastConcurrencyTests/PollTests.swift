import SteadfastConcurrency
import SteadfastTestSupport
import Testing

/// `poll(every:within:clock:until:)`, the one polling loop: when it checks, when it gives up and
/// that cancellation ends it. The waits run on a `VirtualClock` (a sleep jumps its time) or a
/// `ManualClock` (a sleep waits for the test), so no test here waits in real time for its clock.
@Suite(.timeLimit(.minutes(1))) struct PollTests {
    struct Failed: Error {}

    @Test func aConditionThatHoldsAtOnceIsCheckedOnceAndNothingSleeps() async {
        let clock = VirtualClock()
        var checks = 0
        let held = await poll(every: .seconds(1), within: .seconds(60), clock: clock) {
            checks += 1
            return true
        }
        #expect(held && checks == 1)
        #expect(clock.sleeps == 0 && clock.now.offset == .zero)
    }

    @Test func aConditionThatHoldsAfterThreeIntervalsIsCheckedOnceAtEach() async {
        let clock = VirtualClock()
        var checkedAt: [Duration] = []
        let held = await poll(every: .milliseconds(250), within: .seconds(60), clock: clock) {
            checkedAt.append(clock.now.offset)
            return checkedAt.count == 4
        }
        #expect(held)
        #expect(checkedAt == [.zero, .milliseconds(250), .milliseconds(500), .milliseconds(750)])
        #expect(clock.sleeps == 3)
    }

    /// The last wait is cut short to end at the limit, where the condition gets one last check.
    @Test func aConditionThatNeverHoldsIsFalseAtTheLimitAfterALastCheckThere() async {
        let clock = VirtualClock()
        var checkedAt: [Duration] = []
        let held = await poll(every: .milliseconds(300), within: .seconds(1), clock: clock) {
            checkedAt.append(clock.now.offset)
            return false
        }
        #expect(!held)
        #expect(checkedAt == [.zero, .milliseconds(300), .milliseconds(600), .milliseconds(900), .seconds(1)])
        #expect(clock.now.offset == .seconds(1))
    }

    @Test func noTimeLeftMeansOneCheck() async {
        let clock = VirtualClock()
        var checks = 0
        #expect(await poll(every: .seconds(1), within: .zero, clock: clock) { checks += 1; return false } == false)
        #expect(checks == 1 && clock.sleeps == 0)
    }

    @Test func anErrorFromTheConditionEndsItAtOnceAndIsThrownUnchanged() async {
        let clock = VirtualClock()
        var checks = 0
        await #expect(throws: Failed.self) {
            _ = try await poll(every: .seconds(1), within: .seconds(60), clock: clock) { () throws(Failed) -> Bool in
                checks += 1
                if checks == 2 { throw Failed() }
                return false
            }
        }
        #expect(checks == 2 && clock.now.offset == .seconds(1))
    }

    /// Cancelled between checks: no further sleep, no further check.
    @Test func aCancelledTaskStopsPollingAfterTheCheckInProgress() async {
        let clock = VirtualClock()
        var checks = 0
        let held = await poll(every: .seconds(1), within: .seconds(3600), clock: clock) {
            checks += 1
            if checks == 3 { withUnsafeCurrentTask { $0?.cancel() } }
            return false
        }
        #expect(!held && checks == 3)
        #expect(clock.sleeps == 2 && clock.now.offset == .seconds(2))
    }

    /// Cancelled while asleep on a clock nobody moves: the wait ends at once, false, with no
    /// further check.
    @Test func cancellationEndsASleepingPoll() async throws {
        let clock = ManualClock()
        let checks = LockedBox(0)
        let held = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await poll(every: .seconds(1), within: .seconds(3600), clock: clock.steady) {
                    checks.with { $0 += 1 }
                    return false
                }
            }
            // Real time only for the child to fall asleep on the clock; the clock never moves.
            try await waitUntil("the poll asleep on the clock") { clock.isSleeping(for: .seconds(1)) }
            group.cancelAll()
            return try await group.next()
        }
        #expect(held == false)
        #expect(checks.value == 1 && clock.sleepers == 0)
    }
}
