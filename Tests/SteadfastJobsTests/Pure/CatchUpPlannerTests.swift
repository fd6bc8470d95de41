@testable import SteadfastJobs
import Testing

/// Which scheduled slot to claim, by catch-up policy. Times in milliseconds.
@Suite struct CatchUpPlannerTests {
    typealias Plan = CatchUpPlanner.Plan

    static func rules(_ policy: CatchUpPolicy, every milliseconds: Int64 = 1000, lateAfter: Int64? = nil) -> ClaimRules {
        ClaimRules(job: "j", schedule: .interval(milliseconds: milliseconds), catchUp: policy, lateAfterMilliseconds: lateAfter ?? min(milliseconds, 60_000))
    }

    @Test func aJobThatNeverRanStartsWithTheCurrentSlotIfOnTime() {
        #expect(CatchUpPlanner.plan(Self.rules(.runAll), cursor: nil, now: 10_500) == Plan(claim: 10_000, advanceTo: 10_000))
        // Hourly, 30 minutes past: late, and nothing counts as missed.
        let hourly = Self.rules(.runOnce, every: 3_600_000)
        #expect(CatchUpPlanner.plan(hourly, cursor: nil, now: 3_600_000 + 1_800_000) == .nothing)
        #expect(CatchUpPlanner.plan(hourly, cursor: nil, now: 3_600_000 + 59_000) == Plan(claim: 3_600_000, advanceTo: 3_600_000))
    }

    @Test func theNextSlotInOrder() {
        for policy in [CatchUpPolicy.runOnce, .runAll, .skip] {
            #expect(CatchUpPlanner.plan(Self.rules(policy), cursor: 9000, now: 10_200) == Plan(claim: 10_000, advanceTo: 10_000))
            #expect(CatchUpPlanner.plan(Self.rules(policy), cursor: 10_000, now: 10_999) == .nothing)
        }
    }

    /// Cursor at 5000, now 10 200: 6000–9000 missed, 10 000 on time.
    @Test func missedSlotsWithTheCurrentOneOnTime() {
        #expect(CatchUpPlanner.plan(Self.rules(.runAll), cursor: 5000, now: 10_200) == Plan(claim: 6000, advanceTo: 6000))
        #expect(CatchUpPlanner.plan(Self.rules(.runAll), cursor: 6000, now: 10_300) == Plan(claim: 7000, advanceTo: 7000))
        #expect(CatchUpPlanner.plan(Self.rules(.runAll(limit: 2)), cursor: 5000, now: 10_200) == Plan(claim: 8000, advanceTo: 8000, skipped: 2))
        #expect(CatchUpPlanner.plan(Self.rules(.runOnce), cursor: 5000, now: 10_200) == Plan(claim: 10_000, advanceTo: 10_000, skipped: 4, covers: 4))
        #expect(CatchUpPlanner.plan(Self.rules(.skip), cursor: 5000, now: 10_200) == Plan(claim: 10_000, advanceTo: 10_000, skipped: 4))
    }

    /// Hourly (on time for a minute): cursor 1 h, now 3 h 30 m — the 2 h and 3 h slots are both late.
    @Test func missedSlotsWithNothingOnTime() {
        let hour: Int64 = 3_600_000
        let now = 3 * hour + hour / 2
        #expect(CatchUpPlanner.plan(Self.rules(.runAll, every: hour), cursor: hour, now: now) == Plan(claim: 2 * hour, advanceTo: 2 * hour))
        #expect(CatchUpPlanner.plan(Self.rules(.runOnce, every: hour), cursor: hour, now: now) == Plan(claim: 3 * hour, advanceTo: 3 * hour, skipped: 1, covers: 1))
        #expect(CatchUpPlanner.plan(Self.rules(.skip, every: hour), cursor: hour, now: now) == Plan(advanceTo: 3 * hour, skipped: 2))
        // After skipping, the next look finds nothing until the 4 h slot.
        #expect(CatchUpPlanner.plan(Self.rules(.skip, every: hour), cursor: 3 * hour, now: now) == .nothing)
    }

    @Test func runAllIsBoundedHoweverLongTheClusterWasDown() {
        // A day of one-second slots missed: only the newest 100 run.
        let plan = CatchUpPlanner.plan(Self.rules(.runAll(limit: 100)), cursor: 0, now: 86_400_000 + 500)
        #expect(plan == Plan(claim: 86_400_000 - 100_000, advanceTo: 86_400_000 - 100_000, skipped: 86_400 - 1 - 100))
    }

    @Test func policiesReadAndWriteAsText() {
        for policy in [CatchUpPolicy.runOnce, .runAll, .runAll(limit: 7), .skip] {
            #expect(CatchUpPolicy(parsing: policy.description) == policy)
        }
        #expect(CatchUpPolicy(parsing: "run_all") == .runAll(limit: 100))
        #expect(CatchUpPolicy(parsing: "run_all:0") == nil && CatchUpPolicy(parsing: "sometimes") == nil)
    }
}
