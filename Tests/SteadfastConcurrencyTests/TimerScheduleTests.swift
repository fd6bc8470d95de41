import SteadfastConcurrency
import Testing

/// `TimerSchedule`, the pure part of `TimerQueue`: one scenario per transition in its table.
/// Instants are seconds on a test clock; payloads are names.
@Suite struct TimerScheduleTests {
    struct At: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> At { At(offset: offset + duration) }
        func duration(to other: At) -> Duration { other.offset - offset }
        static func < (lhs: At, rhs: At) -> Bool { lhs.offset < rhs.offset }
    }

    static func at(_ seconds: Int) -> At { At(offset: .seconds(seconds)) }

    typealias Schedule = TimerSchedule<At, String>

    @Test func theFirstTimerArmsAWakeUpAndLaterOnesInOrderArmNothing() {
        var schedule = Schedule()
        do { let result = schedule.add(at: Self.at(10), "a").1; #expect(result == .arm(Self.at(10))) }
        // Equal and later instants: the wake-up at 10 serves them.
        do { let result = schedule.add(at: Self.at(10), "b").1; #expect(result == .none) }
        do { let result = schedule.add(at: Self.at(12), "c").1; #expect(result == .none) }
        #expect(schedule.count == 3)
        #expect(schedule.earliestArmed == Self.at(10))
    }

    @Test func anEarlierTimerArmsAnEarlierWakeUp() {
        var schedule = Schedule()
        _ = schedule.add(at: Self.at(10), "late")
        do { let result = schedule.add(at: Self.at(4), "early").1; #expect(result == .arm(Self.at(4))) }
        #expect(schedule.earliestArmed == Self.at(4))
    }

    @Test func aWakeUpBeforeAnyTimerIsDueReturnsNothingAndArmsNothing() {
        var schedule = Schedule()
        _ = schedule.add(at: Self.at(10), "a")
        let (due, action) = schedule.wake(now: Self.at(9))
        #expect(due.isEmpty)
        #expect(action == .none)  // the wake-up at 10 is still armed
        #expect(schedule.earliestArmed == Self.at(10))
        #expect(schedule.count == 1)
    }

    @Test func aWakeUpReturnsEveryDueTimerInOrderAndArmsTheNextPendingOne() {
        var schedule = Schedule()
        _ = schedule.add(at: Self.at(10), "ten")
        _ = schedule.add(at: Self.at(30), "thirty")
        _ = schedule.add(at: Self.at(12), "twelve")
        _ = schedule.add(at: Self.at(11), "eleven")
        let (due, action) = schedule.wake(now: Self.at(12))
        #expect(due == ["ten", "eleven", "twelve"])
        #expect(action == .arm(Self.at(30)))
        #expect(schedule.count == 1)
        // A due timer is gone: waking again returns it no more.
        do { let result = schedule.wake(now: Self.at(29)).due; #expect(result.isEmpty) }
        do { let result = schedule.wake(now: Self.at(30)); #expect(result == (["thirty"], .none)) }
        #expect(schedule.count == 0)
        #expect(schedule.earliestArmed == nil)
    }

    @Test func aRemovedTimerIsNeverDueAndItsWakeUpIsHarmless() {
        var schedule = Schedule()
        let (first, _) = schedule.add(at: Self.at(10), "removed")
        let (second, _) = schedule.add(at: Self.at(20), "kept")
        do { let result = schedule.remove(first); #expect(result) }
        do { let result = schedule.remove(first); #expect(!result) }  // not pending any more
        // The wake-up armed for the removed timer finds nothing due and arms the next.
        do { let result = schedule.wake(now: Self.at(10)); #expect(result == ([], .arm(Self.at(20)))) }
        do { let result = schedule.wake(now: Self.at(20)); #expect(result == (["kept"], .none)) }
        do { let result = schedule.remove(second); #expect(!result) }  // already due
    }

    @Test func everyTimerEndedInTimeLeavesOneWastedWakeUpAndThenNothingArmed() {
        // The common case: bounds that all end before their time.
        var schedule = Schedule()
        var ids: [TimerID] = []
        for second in 10..<20 { ids.append(schedule.add(at: Self.at(second), "\(second)").0) }
        for id in ids { schedule.remove(id) }
        do { let result = schedule.wake(now: Self.at(10)); #expect(result == ([], .none)) }
        #expect(schedule.earliestArmed == nil)
        // The next timer arms a wake-up again.
        do { let result = schedule.add(at: Self.at(25), "next").1; #expect(result == .arm(Self.at(25))) }
    }

    @Test func aSupersededWakeUpThatFiresLaterFiresNothingTwice() {
        var schedule = Schedule()
        _ = schedule.add(at: Self.at(10), "ten")  // arms 10
        _ = schedule.add(at: Self.at(5), "five")  // arms 5; the wake-up at 10 stays armed too
        do { let result = schedule.wake(now: Self.at(5)); #expect(result == (["five"], .arm(Self.at(10)))) }
        do { let result = schedule.wake(now: Self.at(10)); #expect(result == (["ten"], .none)) }
        // The second wake-up at 10 (the superseded one) finds nothing.
        do { let result = schedule.wake(now: Self.at(10)); #expect(result == ([], .none)) }
    }

    @Test func aTimerAlreadyDueWhenAddedArmsAWakeUpAtItsInstant() {
        var schedule = Schedule()
        _ = schedule.add(at: Self.at(10), "later")
        do { let result = schedule.add(at: Self.at(0), "now").1; #expect(result == .arm(Self.at(0))) }
        do { let result = schedule.wake(now: Self.at(1)); #expect(result == (["now"], .arm(Self.at(10)))) }
    }
}

/// Compares a wake-up's outcome with the expected names and action.
func == <I: InstantProtocol>(lhs: (due: [String], action: TimerSchedule<I, String>.Action), rhs: ([String], TimerSchedule<I, String>.Action)) -> Bool {
    lhs.due == rhs.0 && lhs.action == rhs.1
}
