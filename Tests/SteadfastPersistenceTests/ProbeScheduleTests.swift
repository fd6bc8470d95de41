@testable import SteadfastPersistence
import Testing

/// The role monitor's schedule, driven with made-up instants: no server, no sleeping.
@Suite struct ProbeScheduleTests {
    typealias Schedule = ProbeSchedule<ContinuousClock.Instant>
    let t0 = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    /// Drives a schedule as the monitor does, firing every armed timer on time, and returns the
    /// instants at which probes started (each probe takes `probeTime`).
    func probeStarts(
        _ schedule: inout Schedule, until end: Int, probeTime: Int = 5, primaryKnown: Bool = true, asks: [Int] = []
    ) -> [Int] {
        var starts = [0]
        var now = 0
        var pendingAsks = asks.sorted()
        var action = schedule.probeEnded(now: at(probeTime), primaryKnown: primaryKnown)
        now = probeTime
        while now < end {
            switch action {
            case .probe:
                starts.append(now)
                // Asks that arrive while the probe runs.
                while let ask = pendingAsks.first, ask < now + probeTime {
                    pendingAsks.removeFirst()
                    _ = schedule.probeAsked(now: at(ask))
                }
                now += probeTime
                action = schedule.probeEnded(now: at(now), primaryKnown: primaryKnown)
            case .armTimer(let timer, let instant):
                let due = Int((instant - t0) / .milliseconds(1))
                if let ask = pendingAsks.first, ask < due {
                    pendingAsks.removeFirst()
                    now = max(now, ask)
                    action = schedule.probeAsked(now: at(now))
                    if action == .none { action = .armTimer(timer, at: instant) }  // the old timer still stands
                } else {
                    now = due
                    action = schedule.timerFired(timer, now: at(now))
                }
            case .none:
                Issue.record("the schedule stalled at \(now) ms in \(schedule.state)")
                return starts
            }
        }
        return starts
    }

    @Test func whileStableItProbesOncePerInterval() {
        var schedule = Schedule(interval: .seconds(1))
        let starts = probeStarts(&schedule, until: 5_000)
        // One at start, then one a second after each ended: 5 in 5 s.
        #expect(starts == [0, 1_005, 2_010, 3_015, 4_020])
    }

    @Test func whileNoPrimaryIsKnownItProbesEvery100Milliseconds() {
        var schedule = Schedule(interval: .seconds(1))
        let starts = probeStarts(&schedule, until: 1_000, primaryKnown: false)
        #expect(starts.count == 10)
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 == 105 })
        // A short interval is not lengthened.
        #expect(Schedule(interval: .milliseconds(50)).searchInterval == .milliseconds(50))
    }

    @Test func anAskWhileWaitingProbesAtOnceThenTheIntervalResumes() {
        var schedule = Schedule(interval: .seconds(1))
        let starts = probeStarts(&schedule, until: 3_000, asks: [400])
        #expect(starts == [0, 400, 1_405, 2_410])
    }

    @Test func asksRightAfterAProbeWaitForTheMinimumGap() {
        var schedule = Schedule(interval: .seconds(1))
        #expect(schedule.probeEnded(now: at(10), primaryKnown: true) == .armTimer(1, at: at(1_010)))
        // 5 ms after the probe ended: the next may start 20 ms after it ended.
        #expect(schedule.probeAsked(now: at(15)) == .armTimer(2, at: at(30)))
        // More asks before then change nothing.
        #expect(schedule.probeAsked(now: at(20)) == .none)
        #expect(schedule.probeAsked(now: at(25)) == .none)
        // The superseded timer is ignored; the latest starts the probe.
        #expect(schedule.timerFired(1, now: at(30)) == .none)
        #expect(schedule.timerFired(2, now: at(30)) == .probe)
    }

    @Test func asksWhileProbingAreServedByOneMoreProbeSoonAfter() {
        var schedule = Schedule(interval: .seconds(1))
        // The first probe runs; 100 failures ask meanwhile.
        for ms in 0..<100 { #expect(schedule.probeAsked(now: at(ms)) == .none) }
        #expect(schedule.probeEnded(now: at(200), primaryKnown: true) == .armTimer(1, at: at(220)))
        #expect(schedule.timerFired(1, now: at(220)) == .probe)
        // That probe answers them all: then the interval again.
        #expect(schedule.probeEnded(now: at(250), primaryKnown: true) == .armTimer(2, at: at(1_250)))
    }

    @Test func aStormOfAsksIsBoundedByTheMinimumGap() {
        var schedule = Schedule(interval: .seconds(1))
        // Someone asks every millisecond for a second; probes take 5 ms.
        let starts = probeStarts(&schedule, until: 1_000, asks: Array(0..<1_000))
        // At most one probe per (probe time + gap) = 25 ms.
        #expect(starts.count <= 41, "\(starts.count)")
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 >= 25 })
    }

    @Test func aTimerThatFiresEarlyIsArmedAgain() {
        var schedule = Schedule(interval: .seconds(1))
        #expect(schedule.probeEnded(now: at(0), primaryKnown: true) == .armTimer(1, at: at(1_000)))
        #expect(schedule.timerFired(1, now: at(999)) == .armTimer(2, at: at(1_000)))
        #expect(schedule.timerFired(2, now: at(1_000)) == .probe)
    }
}
