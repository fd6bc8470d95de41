import Foundation
@testable import SteadfastJobs
import Testing

/// The lease/claim state machine, driven by hand with an injected clock; every step checks the
/// exact actions.
@Suite struct ClaimStateMachineTests {
    /// Lease 30 s (renewed every 10 s), retries after 1 s, timeout 60 s, cancel grace 5 s,
    /// shutdown grace 10 s.
    static let configuration = ClaimStateMachine.Configuration(lease: .seconds(30), timeout: .seconds(60), cancelGrace: .seconds(5), shutdownGrace: .seconds(10))
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }
    static let claim = Claim(job: "j", slotKey: "2027-01-15T08:00:00.000Z", slotAt: t0, kind: .scheduled, fencingToken: 1, claimID: UUID())
    var id: UUID { Self.claim.claimID }
    let c = ClaimStateMachineTests.claim

    /// A machine holding `claim` since 0 s (claim sent at 0, inserted at 0.1).
    func holding() -> ClaimStateMachine {
        var machine = ClaimStateMachine(configuration: Self.configuration)
        _ = machine.slotDue(now: Self.at(0))
        _ = machine.claimInserted(c, now: Self.at(0.1))
        return machine
    }

    @Test func configurationDefaults() {
        #expect(Self.configuration.renewEvery == .seconds(10))
        #expect(Self.configuration.retryDelay == .seconds(1))
        #expect(ClaimStateMachine.Configuration(lease: .seconds(3), timeout: .seconds(1)).retryDelay == .milliseconds(300))
    }

    @Test func claimRunRenewFinish() {
        var m = ClaimStateMachine(configuration: Self.configuration)
        #expect(m.nextDeadline == nil)
        #expect(m.slotDue(now: Self.at(0)) == [.claim])
        #expect(m.state == .claiming(since: Self.at(0)))
        #expect(m.slotDue(now: Self.at(0.05)) == [])
        #expect(m.claimInserted(c, now: Self.at(0.1)) == [.startBody(c)])
        #expect(m.nextDeadline == Self.at(10))
        #expect(m.tick(now: Self.at(9.9)) == [])
        #expect(m.slotDue(now: Self.at(9.9)) == [], "one slot of a job at a time")
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.tick(now: Self.at(10.01)) == [], "one renewal in flight at a time")
        #expect(m.leaseRenewed(id, now: Self.at(10.2)) == [])
        guard case .holding(let h) = m.state else { Issue.record("not holding"); return }
        // The lease counts from when the renewal was sent.
        #expect(h.leaseExpiresAt == Self.at(40) && h.nextRenewalAt == Self.at(20))
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(15)) == [.recordOutcome(c, .succeeded)])
        #expect(m.outcomeRecorded(id, accepted: true, now: Self.at(15.1)) == [])
        #expect(m.state == .idle)
    }

    @Test func aFailingBodyIsRecordedAsFailed() {
        var m = holding()
        #expect(m.holderFinished(id, result: .failed("boom"), now: Self.at(1)) == [.recordOutcome(c, .failed("boom"))])
        #expect(m.outcomeRecorded(id, accepted: true, now: Self.at(1.1)) == [])
        #expect(m.state == .idle)
    }

    @Test func claimLostReturnsToIdle() {
        var m = ClaimStateMachine(configuration: Self.configuration)
        #expect(m.slotDue(now: Self.at(0)) == [.claim])
        #expect(m.claimLost(now: Self.at(0.1)) == [])
        #expect(m.state == .idle)
        #expect(m.claimLost(now: Self.at(0.2)) == [], "stale")
    }

    @Test func aRefusedRenewalMeansAnotherNodeHasTheSlot() {
        var m = holding()
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.leaseRefused(id, now: Self.at(10.1)) == [.cancelBody(c, .leaseLost), .reportLost(c, .leaseLost)])
        // The body's late result is not recorded.
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(10.2)) == [])
        #expect(m.state == .idle)
    }

    @Test func withTheDatabaseUnreachableTheHolderStopsWhenItsLeaseRunsOut() {
        var m = holding()
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.renewalFailed(id, now: Self.at(12)) == [])
        #expect(m.nextDeadline == Self.at(13))
        #expect(m.tick(now: Self.at(13)) == [.renewLease(c)])
        #expect(m.renewalFailed(id, now: Self.at(15)) == [])
        #expect(m.tick(now: Self.at(16)) == [.renewLease(c)])
        // Still in flight when the lease (sent at 0 + 30 s) runs out.
        #expect(m.nextDeadline == Self.at(30))
        #expect(m.tick(now: Self.at(30)) == [.cancelBody(c, .leaseExpired), .reportLost(c, .leaseExpired)])
        // A renewal answering after that changes nothing.
        #expect(m.leaseRenewed(id, now: Self.at(30.5)) == [])
        #expect(m.nextDeadline == Self.at(35))
        // The body ignores cancellation: left behind after the grace.
        #expect(m.tick(now: Self.at(35)) == [.leaveBodyBehind(c)])
        #expect(m.state == .idle)
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(40)) == [], "stale")
    }

    @Test func aBodyFencedOutByTheDatabaseEndsTheClaim() {
        var m = holding()
        #expect(m.holderFinished(id, result: .fenced, now: Self.at(5)) == [.reportLost(c, .leaseLost)])
        #expect(m.state == .idle)
    }

    @Test func anOutcomeRefusedByTheTokenIsReportedAsLost() {
        var m = holding()
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(5)) == [.recordOutcome(c, .succeeded)])
        #expect(m.outcomeRecorded(id, accepted: false, now: Self.at(5.1)) == [.reportLost(c, .leaseLost)])
        #expect(m.state == .idle)
    }

    @Test func recordingIsRetriedWhileTheLeaseLastsAndRenewalsGoOn() {
        var m = holding()
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(9)) == [.recordOutcome(c, .succeeded)])
        #expect(m.recordFailed(id, now: Self.at(9.5)) == [])
        #expect(m.nextDeadline == Self.at(10))
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.leaseRenewed(id, now: Self.at(10.1)) == [])
        #expect(m.tick(now: Self.at(10.5)) == [.recordOutcome(c, .succeeded)])
        #expect(m.recordFailed(id, now: Self.at(11)) == [])
        // The lease (renewed at 10 s) runs out at 40 s with nothing recorded: lost.
        #expect(m.tick(now: Self.at(40)) == [.reportLost(c, .leaseExpired)])
        #expect(m.state == .idle)
    }

    @Test func aBodyPastItsTimeoutIsCancelledAndRecordedAsTimedOut() {
        var m = holding()
        for renewal in [10.0, 20, 30, 40, 50] {
            #expect(m.tick(now: Self.at(renewal)) == [.renewLease(c)])
            #expect(m.leaseRenewed(id, now: Self.at(renewal)) == [])
        }
        #expect(m.nextDeadline == Self.at(60) || m.nextDeadline == Self.at(60.1))
        #expect(m.tick(now: Self.at(60.1)) == [.cancelBody(c, .timedOut), .renewLease(c)])
        #expect(m.holderFinished(id, result: .cancelled, now: Self.at(60.2)) == [.recordOutcome(c, .timedOut)])
        #expect(m.leaseRenewed(id, now: Self.at(60.3)) == [])
        #expect(m.outcomeRecorded(id, accepted: true, now: Self.at(60.4)) == [])
        #expect(m.state == .idle)
    }

    @Test func aTimedOutBodyThatIgnoresCancellationIsLeftBehind() {
        var m = ClaimStateMachine(configuration: .init(lease: .seconds(300), timeout: .seconds(5), cancelGrace: .seconds(2)))
        _ = m.slotDue(now: Self.at(0))
        _ = m.claimInserted(c, now: Self.at(0))
        #expect(m.tick(now: Self.at(5)) == [.cancelBody(c, .timedOut)])
        #expect(m.tick(now: Self.at(7)) == [.leaveBodyBehind(c), .recordOutcome(c, .timedOut)])
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(8)) == [], "a body left behind does not change the outcome")
        #expect(m.outcomeRecorded(id, accepted: true, now: Self.at(8)) == [])
        #expect(m.state == .idle)
    }

    @Test func shutdownWhileIdleStopsAtOnce() {
        var m = ClaimStateMachine(configuration: Self.configuration)
        #expect(m.shutdownRequested(now: Self.at(0)) == [.stop])
        #expect(m.state == .stopped)
        #expect(m.slotDue(now: Self.at(1)) == [])
        #expect(m.shutdownRequested(now: Self.at(2)) == [])
    }

    @Test func shutdownLetsARunningBodyFinishWithinTheGrace() {
        var m = holding()
        #expect(m.shutdownRequested(now: Self.at(5)) == [])
        #expect(m.slotDue(now: Self.at(6)) == [])
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(8)) == [.recordOutcome(c, .succeeded)])
        #expect(m.outcomeRecorded(id, accepted: true, now: Self.at(8.1)) == [.stop])
        #expect(m.state == .stopped)
    }

    @Test func shutdownCancelsAnOverrunningBodyAndHandsTheSlotBack() {
        var m = holding()
        #expect(m.shutdownRequested(now: Self.at(5)) == [])
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.leaseRenewed(id, now: Self.at(10)) == [])
        #expect(m.nextDeadline == Self.at(15))
        #expect(m.tick(now: Self.at(15)) == [.cancelBody(c, .shutdown)])
        #expect(m.holderFinished(id, result: .cancelled, now: Self.at(15.5)) == [.releaseLease(c)])
        #expect(m.leaseReleased(id, now: Self.at(15.6)) == [.stop])
        #expect(m.state == .stopped)
    }

    @Test func shutdownHandsBackEvenWhenTheBodyIgnoresCancellation() {
        var m = holding()
        #expect(m.shutdownRequested(now: Self.at(1)) == [])
        #expect(m.tick(now: Self.at(11)) == [.cancelBody(c, .shutdown), .renewLease(c)])
        #expect(m.tick(now: Self.at(16)) == [.leaveBodyBehind(c), .releaseLease(c)])
        #expect(m.leaseReleased(id, now: Self.at(16.1)) == [.stop])
    }

    @Test func aClaimArrivingDuringShutdownIsHandedStraightBack() {
        var m = ClaimStateMachine(configuration: Self.configuration)
        #expect(m.slotDue(now: Self.at(0)) == [.claim])
        #expect(m.shutdownRequested(now: Self.at(0.05)) == [])
        #expect(m.claimInserted(c, now: Self.at(0.1)) == [.releaseLease(c)])
        #expect(m.leaseReleased(id, now: Self.at(0.2)) == [.stop])

        var n = ClaimStateMachine(configuration: Self.configuration)
        _ = n.slotDue(now: Self.at(0))
        _ = n.shutdownRequested(now: Self.at(0.05))
        #expect(n.claimLost(now: Self.at(0.1)) == [.stop])
    }

    /// Lease 30 s: retries 1 s apart, five attempts.
    @Test func aBodyThatCannotReachTheDatabaseRunsAgainForTheSameClaim() {
        var m = holding()
        #expect(m.holderFinished(id, result: .unavailable("no primary"), now: Self.at(2)) == [])
        guard case .holding(let h) = m.state else { Issue.record("not holding"); return }
        #expect(h.phase == .retrying(at: Self.at(3), lastError: "no primary"))
        #expect(m.nextDeadline == Self.at(3))
        #expect(m.tick(now: Self.at(3)) == [.startBody(c)])
        #expect(m.holderFinished(id, result: .succeeded, now: Self.at(4)) == [.recordOutcome(c, .succeeded)])
        #expect(m.outcomeRecorded(id, accepted: true, now: Self.at(4.1)) == [])
        #expect(m.state == .idle)
    }

    @Test func retriesEndAfterTheLastAttempt() {
        var m = holding()
        var now = 1.0
        for _ in 1..<5 {
            #expect(m.holderFinished(id, result: .unavailable("no primary"), now: Self.at(now)) == [])
            now += 1
            #expect(m.tick(now: Self.at(now)) == [.startBody(c)])
        }
        #expect(m.holderFinished(id, result: .unavailable("still no primary"), now: Self.at(now)) == [.recordOutcome(c, .failed("still no primary"))])
    }

    @Test func whileWaitingToRetryTheLeaseTimeoutAndShutdownStillApply() {
        // Lease: renewals keep failing; the lease runs out while waiting.
        var m = holding()
        _ = m.holderFinished(id, result: .unavailable("x"), now: Self.at(9.5))
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.renewalFailed(id, now: Self.at(10.1)) == [])
        var n = m
        #expect(n.tick(now: Self.at(30)) == [.reportLost(c, .leaseExpired)])
        #expect(n.state == .idle)
        // Shutdown: nothing runs, so the slot is handed back at the next tick.
        #expect(m.shutdownRequested(now: Self.at(10.2)) == [])
        #expect(m.tick(now: Self.at(10.5)) == [.releaseLease(c)])
        // Timeout: the last error is the outcome.
        var t = ClaimStateMachine(configuration: .init(lease: .seconds(300), timeout: .seconds(2)))
        _ = t.slotDue(now: Self.at(0))
        _ = t.claimInserted(c, now: Self.at(0))
        #expect(t.holderFinished(id, result: .unavailable("no primary"), now: Self.at(1.5)) == [.recordOutcome(c, .failed("no primary"))], "no time left to retry")
        // A body failing that way during shutdown hands the slot back.
        var u = holding()
        _ = u.shutdownRequested(now: Self.at(1))
        #expect(u.holderFinished(id, result: .unavailable("x"), now: Self.at(2)) == [.releaseLease(c)])
    }

    @Test func eventsForAnotherClaimAreIgnored() {
        var m = holding()
        let other = UUID()
        #expect(m.tick(now: Self.at(10)) == [.renewLease(c)])
        #expect(m.leaseRenewed(other, now: Self.at(10)) == [])
        #expect(m.leaseRefused(other, now: Self.at(10)) == [])
        #expect(m.holderFinished(other, result: .succeeded, now: Self.at(10)) == [])
        guard case .holding(let h) = m.state else { Issue.record("not holding"); return }
        #expect(h.phase == .running && h.renewalSentAt == Self.at(10))
    }
}
