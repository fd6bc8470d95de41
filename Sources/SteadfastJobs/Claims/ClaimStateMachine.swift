import Foundation
import SteadfastDomain

/// One node's handling of one job: claiming a slot, holding its lease while the body runs, and
/// then recording the outcome, losing the slot, or handing it back at shutdown.
///
/// Pure and clock-free: the owner (``JobRunner``) feeds each event with the time it happened and
/// executes the returned actions — database work, starting or cancelling the body — outside.
/// Time-based transitions (renewal due, lease expired, timeout, shutdown deadline, giving up on a
/// body that ignores cancellation) happen on ``tick(now:)``; ``nextDeadline`` says when the next
/// one is due.
///
/// Safety rests on two rules: the holder stops (cancels its body and writes nothing more) once
/// its own clock passes the lease it last renewed, even while the database is unreachable; and
/// everything it writes is conditional on its fencing token, so a holder that stops too late —
/// paused, or with a slow clock — is refused by the database instead.
public struct ClaimStateMachine: Sendable {
    /// Timings.
    public struct Configuration: Sendable, Equatable {
        /// How long a claim or renewal holds the slot.
        public var lease: Duration
        /// How often the lease is renewed (a third of the lease by default).
        public var renewEvery: Duration
        /// Wait before retrying a failed renewal or outcome write.
        public var retryDelay: Duration
        /// The job's timeout.
        public var timeout: Duration
        /// How long a cancelled body may take to return before it is left behind.
        public var cancelGrace: Duration
        /// At shutdown, how long a running body may go on before it is cancelled and its slot
        /// handed back.
        public var shutdownGrace: Duration
        /// How many times the body may run for one claim when it fails because the database is
        /// unavailable (a failover); it starts again after `retryDelay`, within the timeout.
        public var bodyAttempts: Int

        public init(
            lease: Duration, renewEvery: Duration? = nil, retryDelay: Duration? = nil, timeout: Duration, cancelGrace: Duration = .seconds(5),
            shutdownGrace: Duration = .seconds(10), bodyAttempts: Int = 5
        ) {
            self.lease = lease
            self.renewEvery = renewEvery ?? lease / 3
            self.retryDelay = retryDelay ?? min(lease / 10, .seconds(1))
            self.timeout = timeout
            self.cancelGrace = cancelGrace
            self.shutdownGrace = shutdownGrace
            self.bodyAttempts = bodyAttempts
        }
    }

    /// Why a body is cancelled or a slot given up.
    public enum CancelReason: String, Sendable, Equatable {
        /// The job's timeout passed.
        case timedOut
        /// The node is shutting down and the shutdown grace passed.
        case shutdown
        /// The database refused a renewal: another node holds the slot now.
        case leaseLost
        /// The lease ran out on this node's clock without a successful renewal.
        case leaseExpired
    }

    /// What the body did.
    public enum BodyResult: Sendable, Equatable {
        case succeeded
        case failed(String)
        /// It failed because the database was unavailable (no primary, connection lost, timeout):
        /// worth running again for the same claim — bodies already tolerate re-running, as a
        /// takeover re-runs them.
        case unavailable(String)
        /// It threw ``JobError`` `fenced`: it found out itself that the slot is no longer ours.
        case fenced
        /// It threw `CancellationError`.
        case cancelled
    }

    /// Where the machine is.
    public enum State: Sendable, Equatable {
        /// Holding nothing. → `claiming` (``slotDue(now:)``), `stopped` (``shutdownRequested(now:)``).
        case idle
        /// A claim transaction sent at `since` is in flight. → `holding` (``claimInserted(_:now:)``),
        /// `idle` or `stopped` (``claimLost(now:)``).
        case claiming(since: Date)
        /// Holding a slot. → `idle` when its run is recorded, lost or handed back; `stopped`
        /// instead when that happens during shutdown.
        case holding(Holding)
        /// Shut down: no more claims, every event ignored. Final.
        case stopped
    }

    /// A held slot.
    public struct Holding: Sendable, Equatable {
        public var claim: Claim
        /// When the lease ends by this node's clock (the time the last successful claim or
        /// renewal was sent, plus the lease).
        public var leaseExpiresAt: Date
        public var nextRenewalAt: Date
        /// When the renewal in flight was sent; `nil` if none is.
        public var renewalSentAt: Date?
        public var bodyDeadline: Date
        /// How many times the body has been started for this claim.
        public var bodyAttempts: Int
        public var phase: Phase
    }

    /// The stages of holding a slot.
    public enum Phase: Sendable, Equatable {
        /// The body runs; the lease is renewed. → `cancelling`, `recording`, `retrying`, `abandoned`.
        case running
        /// The body failed for want of a database (`lastError`); it starts again at `at`. The
        /// lease is still renewed. → `running`, `recording` (timeout), `releasing` (shutdown).
        case retrying(at: Date, lastError: String)
        /// The body was cancelled (timeout or shutdown) and may still return until `giveUpAt`;
        /// the lease is still renewed. → `recording` (timeout), `releasing` (shutdown),
        /// `abandoned` (lease lost meanwhile).
        case cancelling(CancelReason, giveUpAt: Date)
        /// The outcome is being written, conditional on the fencing token; after a failure it is
        /// tried again at `retryAt`. Renewals go on. → done, or lost if the lease runs out.
        case recording(RunOutcome, retryAt: Date?)
        /// The slot is being handed back (shutdown). → done.
        case releasing
        /// The slot is no longer ours; nothing more is written. Waiting for the body to return
        /// until `giveUpAt`. → done.
        case abandoned(CancelReason, giveUpAt: Date)
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Run the claim transaction (``JobStore/claimNext(_:node:claimID:now:lease:)``).
        case claim
        /// Start the job's body for this claim.
        case startBody(Claim)
        /// Renew the lease (conditional on holder, claim id and fencing token).
        case renewLease(Claim)
        /// Cancel the running body.
        case cancelBody(Claim, CancelReason)
        /// Write the outcome (conditional on the fencing token).
        case recordOutcome(Claim, RunOutcome)
        /// Hand the slot back so another node can take it at once.
        case releaseLease(Claim)
        /// Report that the slot was lost: another node has it or will take it over.
        case reportLost(Claim, CancelReason)
        /// A cancelled body did not return in time; it is left running (its writes are fenced).
        case leaveBodyBehind(Claim)
        /// Shut down and holding nothing: the owner may exit.
        case stop
    }

    public let configuration: Configuration
    public private(set) var state: State = .idle
    /// When shutdown was requested plus the shutdown grace; `nil` while not shutting down.
    public private(set) var shutdownDeadline: Date?

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var isShuttingDown: Bool { shutdownDeadline != nil }

    // MARK: Events

    /// A slot is due, or the poller saw work for this job (a dead lease, a handed-back slot, a
    /// manual run). Claims unless busy or shutting down.
    public mutating func slotDue(now: Date) -> [Action] {
        guard case .idle = state, !isShuttingDown else { return [] }
        state = .claiming(since: now)
        return [.claim]
    }

    /// The claim transaction gave this node `claim`.
    public mutating func claimInserted(_ claim: Claim, now: Date) -> [Action] {
        guard case .claiming(let since) = state else { return [] }
        var holding = Holding(
            claim: claim, leaseExpiresAt: since + configuration.lease, nextRenewalAt: since + configuration.renewEvery,
            renewalSentAt: nil, bodyDeadline: now + configuration.timeout, bodyAttempts: 1, phase: .running
        )
        if isShuttingDown {
            // Shutdown began while the claim was in flight: hand the slot straight back.
            holding.phase = .releasing
            state = .holding(holding)
            return [.releaseLease(claim)]
        }
        state = .holding(holding)
        return [.startBody(claim)]
    }

    /// The claim transaction gave nothing (nothing due, the job busy elsewhere, or it failed).
    public mutating func claimLost(now: Date) -> [Action] {
        guard case .claiming = state else { return [] }
        return settle()
    }

    /// Time passed: checks the lease, the give-up, timeout and shutdown deadlines, retries, and
    /// renewals.
    public mutating func tick(now: Date) -> [Action] {
        guard case .holding(var holding) = state else { return [] }
        let claim = holding.claim
        let grace = configuration.cancelGrace

        // The lease ran out on our own clock: the slot may be someone else's by now.
        if now >= holding.leaseExpiresAt {
            switch holding.phase {
            case .running:
                holding.phase = .abandoned(.leaseExpired, giveUpAt: now + grace)
                state = .holding(holding)
                return [.cancelBody(claim, .leaseExpired), .reportLost(claim, .leaseExpired)]
            case .cancelling:
                holding.phase = .abandoned(.leaseExpired, giveUpAt: now + grace)
                state = .holding(holding)
                return [.reportLost(claim, .leaseExpired)]
            case .recording, .retrying:
                return [.reportLost(claim, .leaseExpired)] + settle()
            case .releasing:
                // A lapsed lease is as good as a released one.
                return settle()
            case .abandoned:
                break
            }
        }

        switch holding.phase {
        case .cancelling(let reason, let giveUpAt) where now >= giveUpAt:
            if reason == .shutdown {
                holding.phase = .releasing
                state = .holding(holding)
                return [.leaveBodyBehind(claim), .releaseLease(claim)]
            }
            holding.phase = .recording(.timedOut, retryAt: nil)
            state = .holding(holding)
            return [.leaveBodyBehind(claim), .recordOutcome(claim, .timedOut)]
        case .abandoned(_, let giveUpAt) where now >= giveUpAt:
            return [.leaveBodyBehind(claim)] + settle()
        case .running where now >= holding.bodyDeadline:
            holding.phase = .cancelling(.timedOut, giveUpAt: now + grace)
            state = .holding(holding)
            return [.cancelBody(claim, .timedOut)] + renewIfDue(now: now)
        case .running where shutdownDeadline.map { now >= $0 } ?? false:
            holding.phase = .cancelling(.shutdown, giveUpAt: now + grace)
            state = .holding(holding)
            return [.cancelBody(claim, .shutdown)] + renewIfDue(now: now)
        case .retrying where isShuttingDown:
            // Nothing runs: hand the slot back at once.
            holding.phase = .releasing
            state = .holding(holding)
            return [.releaseLease(claim)]
        case .retrying(_, let lastError) where now >= holding.bodyDeadline:
            holding.phase = .recording(.failed(lastError), retryAt: nil)
            state = .holding(holding)
            return [.recordOutcome(claim, .failed(lastError))] + renewIfDue(now: now)
        case .retrying(let at, _) where now >= at:
            holding.phase = .running
            holding.bodyAttempts += 1
            state = .holding(holding)
            return [.startBody(claim)] + renewIfDue(now: now)
        case .recording(let outcome, let retryAt?) where now >= retryAt:
            holding.phase = .recording(outcome, retryAt: nil)
            state = .holding(holding)
            return [.recordOutcome(claim, outcome)] + renewIfDue(now: now)
        default:
            return renewIfDue(now: now)
        }
    }

    /// The renewal sent at the time the machine noted succeeded.
    public mutating func leaseRenewed(_ claimID: UUID, now: Date) -> [Action] {
        guard case .holding(var holding) = state, holding.claim.claimID == claimID, let sent = holding.renewalSentAt else { return [] }
        holding.renewalSentAt = nil
        switch holding.phase {
        case .running, .retrying, .cancelling, .recording:
            holding.leaseExpiresAt = sent + configuration.lease
            holding.nextRenewalAt = sent + configuration.renewEvery
        case .releasing, .abandoned:
            break
        }
        state = .holding(holding)
        return []
    }

    /// The database refused the renewal: the slot has another holder (or fencing token) now.
    public mutating func leaseRefused(_ claimID: UUID, now: Date) -> [Action] {
        guard case .holding(var holding) = state, holding.claim.claimID == claimID else { return [] }
        holding.renewalSentAt = nil
        let claim = holding.claim
        switch holding.phase {
        case .running:
            holding.phase = .abandoned(.leaseLost, giveUpAt: now + configuration.cancelGrace)
            state = .holding(holding)
            return [.cancelBody(claim, .leaseLost), .reportLost(claim, .leaseLost)]
        case .cancelling:
            holding.phase = .abandoned(.leaseLost, giveUpAt: now + configuration.cancelGrace)
            state = .holding(holding)
            return [.reportLost(claim, .leaseLost)]
        case .recording, .retrying:
            return [.reportLost(claim, .leaseLost)] + settle()
        case .releasing:
            return settle()
        case .abandoned:
            state = .holding(holding)
            return []
        }
    }

    /// The renewal failed (database unreachable, timeout): try again soon; the lease check in
    /// ``tick(now:)`` stops the body if no renewal succeeds in time.
    public mutating func renewalFailed(_ claimID: UUID, now: Date) -> [Action] {
        guard case .holding(var holding) = state, holding.claim.claimID == claimID else { return [] }
        holding.renewalSentAt = nil
        holding.nextRenewalAt = now + configuration.retryDelay
        state = .holding(holding)
        return []
    }

    /// The body returned.
    public mutating func holderFinished(_ claimID: UUID, result: BodyResult, now: Date) -> [Action] {
        guard case .holding(var holding) = state, holding.claim.claimID == claimID else { return [] }
        let claim = holding.claim
        if result == .fenced {
            switch holding.phase {
            case .running, .cancelling:
                return [.reportLost(claim, .leaseLost)] + settle()
            case .abandoned:
                return settle()
            case .recording, .releasing, .retrying:
                return []
            }
        }
        let outcome: RunOutcome
        switch (holding.phase, result) {
        case (.running, .succeeded), (.cancelling, .succeeded):
            outcome = .succeeded
        case (.running, .failed(let message)):
            outcome = .failed(message)
        case (.running, .unavailable(let message)):
            if isShuttingDown {
                // Another node can try it once the database is back.
                holding.phase = .releasing
                state = .holding(holding)
                return [.releaseLease(claim)]
            }
            if holding.bodyAttempts < configuration.bodyAttempts && now + configuration.retryDelay < holding.bodyDeadline {
                holding.phase = .retrying(at: now + configuration.retryDelay, lastError: message)
                state = .holding(holding)
                return []
            }
            outcome = .failed(message)
        case (.running, .cancelled):
            outcome = .failed("cancelled")
        case (.cancelling(.timedOut, _), _):
            outcome = .timedOut
        case (.cancelling, _):
            // Cancelled for shutdown before it finished: hand the slot back for another node.
            holding.phase = .releasing
            state = .holding(holding)
            return [.releaseLease(claim)]
        case (.abandoned, _):
            return settle()
        default:
            // Recording or releasing already (a body left behind returning late).
            return []
        }
        holding.phase = .recording(outcome, retryAt: nil)
        state = .holding(holding)
        return [.recordOutcome(claim, outcome)]
    }

    /// The outcome write finished: `accepted` is false when the fencing token refused it.
    public mutating func outcomeRecorded(_ claimID: UUID, accepted: Bool, now: Date) -> [Action] {
        guard case .holding(let holding) = state, holding.claim.claimID == claimID, case .recording = holding.phase else { return [] }
        return (accepted ? [] : [.reportLost(holding.claim, .leaseLost)]) + settle()
    }

    /// The outcome write failed (database unreachable): try again after `retryDelay`, while the
    /// lease lasts.
    public mutating func recordFailed(_ claimID: UUID, now: Date) -> [Action] {
        guard case .holding(var holding) = state, holding.claim.claimID == claimID, case .recording(let outcome, _) = holding.phase else { return [] }
        holding.phase = .recording(outcome, retryAt: now + configuration.retryDelay)
        state = .holding(holding)
        return []
    }

    /// The hand-back finished (or failed: the lease then simply runs out).
    public mutating func leaseReleased(_ claimID: UUID, now: Date) -> [Action] {
        guard case .holding(let holding) = state, holding.claim.claimID == claimID, case .releasing = holding.phase else { return [] }
        return settle()
    }

    /// Graceful shutdown: claim nothing more; a running body may go on for the shutdown grace,
    /// then it is cancelled and its slot handed back.
    public mutating func shutdownRequested(now: Date) -> [Action] {
        guard shutdownDeadline == nil, state != .stopped else { return [] }
        shutdownDeadline = now + configuration.shutdownGrace
        if case .idle = state {
            state = .stopped
            return [.stop]
        }
        return []
    }

    // MARK: Deadlines

    /// When ``tick(now:)`` next has something to do; `nil` when nothing is time-bound.
    public var nextDeadline: Date? {
        guard case .holding(let holding) = state else { return nil }
        var deadlines: [Date] = []
        switch holding.phase {
        case .running:
            deadlines += [holding.leaseExpiresAt, holding.bodyDeadline]
            if let shutdownDeadline { deadlines.append(shutdownDeadline) }
        case .retrying(let at, _):
            deadlines += [holding.leaseExpiresAt, holding.bodyDeadline, at]
            if let shutdownDeadline { deadlines.append(shutdownDeadline) }
        case .cancelling(_, let giveUpAt):
            deadlines += [holding.leaseExpiresAt, giveUpAt]
        case .recording(_, let retryAt):
            deadlines.append(holding.leaseExpiresAt)
            if let retryAt { deadlines.append(retryAt) }
        case .releasing:
            deadlines.append(holding.leaseExpiresAt)
        case .abandoned(_, let giveUpAt):
            deadlines.append(giveUpAt)
        }
        if renews(holding.phase), holding.renewalSentAt == nil { deadlines.append(holding.nextRenewalAt) }
        return deadlines.min()
    }

    // MARK: Helpers

    private func renews(_ phase: Phase) -> Bool {
        switch phase {
        case .running, .retrying, .cancelling, .recording: true
        case .releasing, .abandoned: false
        }
    }

    private mutating func renewIfDue(now: Date) -> [Action] {
        guard case .holding(var holding) = state, renews(holding.phase), holding.renewalSentAt == nil, now >= holding.nextRenewalAt else { return [] }
        holding.renewalSentAt = now
        state = .holding(holding)
        return [.renewLease(holding.claim)]
    }

    /// Done with the current claim: back to idle, or stopped when shutting down.
    private mutating func settle() -> [Action] {
        if isShuttingDown {
            state = .stopped
            return [.stop]
        }
        state = .idle
        return []
    }
}
