import Foundation
@testable import SteadfastJobs
import Testing

/// What a claim attempt does with a job's open runs.
@Suite struct ClaimDecisionTests {
    typealias Run = ClaimDecision.OpenRun
    static let rules = ClaimRules(job: "j", schedule: .interval(milliseconds: 1000), catchUp: .runOnce, lateAfterMilliseconds: 1000, maxTakeovers: 2)
    static let me = UUID()

    static func decide(_ open: [Run], now: Int64 = 50_000) -> ClaimDecision {
        ClaimDecision.decide(rules, open: open, cursor: 49_000, claimID: me, now: now)
    }

    @Test func ourOwnClaimIsRecognised() {
        let mine = Run(slotKey: "a", slotAt: 50_000, kind: .scheduled, state: .running, fencingToken: 1, holder: "n", claimID: Self.me, leaseExpiresAt: 80_000)
        #expect(Self.decide([mine]) == .alreadyHeld(mine))
    }

    @Test func aLiveLeaseMakesTheJobBusyEvenWithOtherWork() {
        let live = Run(slotKey: "a", slotAt: 49_000, kind: .scheduled, state: .running, fencingToken: 1, holder: "x", claimID: UUID(), leaseExpiresAt: 50_001)
        let pending = Run(slotKey: "manual:1", slotAt: 49_500, kind: .manual, state: .pending, fencingToken: 0)
        let released = Run(slotKey: "b", slotAt: 48_000, kind: .scheduled, state: .released, fencingToken: 1, leaseExpiresAt: 40_000)
        #expect(Self.decide([pending, live, released]) == .busy(live))
    }

    @Test func deadAndHandedBackSlotsAreTakenOverOldestFirst() {
        let dead = Run(slotKey: "b", slotAt: 48_000, kind: .scheduled, state: .running, fencingToken: 1, holder: "x", claimID: UUID(), leaseExpiresAt: 50_000)
        let released = Run(slotKey: "c", slotAt: 49_000, kind: .scheduled, state: .released, fencingToken: 2, leaseExpiresAt: 45_000)
        let pending = Run(slotKey: "manual:1", slotAt: 40_000, kind: .manual, state: .pending, fencingToken: 0)
        // A lease that ends exactly now is over.
        #expect(Self.decide([released, dead, pending]) == .takeOver(dead, expired: true))
        #expect(Self.decide([released, pending]) == .takeOver(released, expired: false))
    }

    @Test func aSlotWhoseHoldersKeepDyingIsAbandoned() {
        let cursed = Run(slotKey: "b", slotAt: 48_000, kind: .scheduled, state: .running, fencingToken: 3, holder: "x", claimID: UUID(), leaseExpiresAt: 1, takeovers: 2)
        #expect(Self.decide([cursed]) == .abandon(cursed))
        // Handing back does not count as dying.
        var handedBack = cursed
        handedBack.state = .released
        #expect(Self.decide([handedBack]) == .takeOver(handedBack, expired: false))
    }

    @Test func pendingManualRunsComeBeforeTheSchedule() {
        let older = Run(slotKey: "manual:1", slotAt: 40_000, kind: .manual, state: .pending, fencingToken: 0, createdAt: 40_000)
        let newer = Run(slotKey: "manual:2", slotAt: 41_000, kind: .manual, state: .pending, fencingToken: 0, createdAt: 41_000)
        #expect(Self.decide([newer, older]) == .startManual(older))
        #expect(Self.decide([]) == .schedule(CatchUpPlanner.Plan(claim: 50_000, advanceTo: 50_000)))
    }
}
