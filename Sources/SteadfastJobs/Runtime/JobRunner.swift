import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence

/// Runs one job on this node: feeds a ``ClaimStateMachine`` with events — wake-ups, timer ticks,
/// results of database work and of the body — and carries out the actions it returns.
///
/// Everything mutable lives in ``run()``'s locals and is touched only by its loop; database work
/// and the body run in tasks that report back through the event stream.
final class JobRunner: Sendable {
    /// What the loop reacts to.
    enum Event: Sendable {
        /// Look for work now (start-up, a slot is due, the poller saw work, a run just ended).
        case wake
        /// A deadline passed.
        case tick
        /// The claim transaction's answer; `nil` if it failed.
        case claimed(ClaimResult?)
        case bodyFinished(UUID, ClaimStateMachine.BodyResult)
        /// `true` renewed, `false` refused, `nil` failed.
        case renewed(UUID, Bool?)
        /// `true` recorded, `false` refused, `nil` failed.
        case recorded(UUID, Bool?)
        case released(UUID)
        case shutdown
    }

    let definition: JobDefinition
    let store: JobStore
    let node: String
    let settings: SchedulerSettings
    let clock: any WallClock
    let logger: Logger
    let metrics = JobMetrics()
    private let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init(definition: JobDefinition, store: JobStore, node: String, settings: SchedulerSettings, clock: any WallClock, logger: Logger) {
        self.definition = definition
        self.store = store
        self.node = node
        self.settings = settings
        self.clock = clock
        var logger = logger
        logger[metadataKey: "steadfast.job.name"] = .string(definition.name)
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream()
    }

    /// Asks the runner to look for work now.
    func wake() { continuation.yield(.wake) }

    /// Graceful shutdown: no more claims; running work finishes or is handed back.
    func shutdown() { continuation.yield(.shutdown) }

    /// Runs until shut down (returns once nothing is held) or cancelled.
    func run() async {
        var machine = ClaimStateMachine(configuration: .init(
            lease: settings.lease, timeout: definition.timeout, cancelGrace: settings.cancelGrace, shutdownGrace: settings.shutdownGrace
        ))
        var bodies: [UUID: (task: Task<Void, Never>, started: Date)] = [:]
        var nextAttemptAt: Date? = nil
        var timer: Task<Void, Never>?
        let continuation = self.continuation

        await withTaskGroup(of: Void.self) { group in
            continuation.yield(.wake)
            eventLoop: for await event in events {
                let now = clock.now()
                let heldBefore: Bool
                if case .holding = machine.state { heldBefore = true } else { heldBefore = false }
                var actions: [ClaimStateMachine.Action] = []
                switch event {
                case .wake:
                    actions = machine.slotDue(now: now)
                case .tick:
                    actions = machine.tick(now: now)
                    if case .idle = machine.state, let due = nextAttemptAt, now >= due {
                        actions += machine.slotDue(now: now)
                    }
                case .claimed(let result):
                    switch result {
                    case .claimed(let claim)?:
                        actions = machine.claimInserted(claim, now: now)
                    case .busy(let slot, let holder)?:
                        logger.debug("job busy on another node", metadata: ["steadfast.job.slot": "\(slot)", "steadfast.job.holder": "\(holder ?? "-")"])
                        nextAttemptAt = definition.schedule.next(after: now)
                        actions = machine.claimLost(now: now)
                    case .nothing(let skipped, let abandoned)?:
                        if skipped > 0 {
                            metrics.skipped(job: definition.name, count: skipped)
                            logger.notice("missed slots passed over by the catch-up policy", metadata: [
                                "steadfast.job.skipped": "\(skipped)", "steadfast.job.catch_up": "\(definition.catchUp)",
                            ])
                        }
                        if let abandoned {
                            logger.error("slot abandoned: its holders kept losing the lease", metadata: ["steadfast.job.slot": "\(abandoned)"])
                        }
                        nextAttemptAt = definition.schedule.next(after: now)
                        actions = machine.claimLost(now: now)
                    case nil:
                        // The database did not answer: try again after a poll interval.
                        nextAttemptAt = now + settings.pollInterval
                        actions = machine.claimLost(now: now)
                    }
                case .bodyFinished(let id, let result):
                    actions = machine.holderFinished(id, result: result, now: now)
                    if result == .fenced { metrics.fenced(job: definition.name) }
                case .renewed(let id, let renewed):
                    switch renewed {
                    case true?: actions = machine.leaseRenewed(id, now: now)
                    case false?: actions = machine.leaseRefused(id, now: now)
                    case nil: actions = machine.renewalFailed(id, now: now)
                    }
                case .recorded(let id, let recorded):
                    if let recorded {
                        if !recorded { metrics.fenced(job: definition.name) }
                        actions = machine.outcomeRecorded(id, accepted: recorded, now: now)
                    } else {
                        actions = machine.recordFailed(id, now: now)
                    }
                case .released(let id):
                    actions = machine.leaseReleased(id, now: now)
                case .shutdown:
                    actions = machine.shutdownRequested(now: now)
                }

                for action in actions {
                    switch action {
                    case .claim:
                        let claimID = UUID()
                        group.addTask { [store, definition, node, settings, logger, clock] in
                            do {
                                let result = try await store.claimNext(definition.rules, node: node, claimID: claimID, now: clock.now(), lease: settings.lease)
                                continuation.yield(.claimed(result))
                            } catch {
                                logger.warning("claiming failed; trying again", metadata: ["error": "\(error)"])
                                continuation.yield(.claimed(nil))
                            }
                        }
                    case .startBody(let claim):
                        bodies[claim.claimID] = (startBody(claim), clock.now())
                    case .renewLease(let claim):
                        group.addTask { [store, node, settings, logger, clock] in
                            do {
                                let renewed = try await store.renew(claim, node: node, now: clock.now(), lease: settings.lease)
                                continuation.yield(.renewed(claim.claimID, renewed))
                            } catch {
                                logger.warning("lease renewal failed; retrying", metadata: ["error": "\(error)", "steadfast.job.slot": "\(claim.slotKey)"])
                                continuation.yield(.renewed(claim.claimID, nil))
                            }
                        }
                    case .cancelBody(let claim, let reason):
                        logger.notice("cancelling job body", metadata: ["steadfast.job.slot": "\(claim.slotKey)", "steadfast.job.reason": "\(reason.rawValue)"])
                        bodies[claim.claimID]?.task.cancel()
                    case .recordOutcome(let claim, let outcome):
                        let duration = bodies[claim.claimID].map { max(.zero, $0.started.duration(to: clock.now())) } ?? .zero
                        group.addTask { [store, logger, metrics, clock] in
                            do {
                                let accepted = try await store.finish(claim, outcome: outcome, duration: duration, now: clock.now())
                                if accepted {
                                    metrics.finished(job: claim.job, outcome: outcome, duration: duration)
                                    let metadata: Logger.Metadata = [
                                        "steadfast.job.slot": "\(claim.slotKey)", "steadfast.job.token": "\(claim.fencingToken)",
                                        "steadfast.job.outcome": "\(outcome.state)", "steadfast.job.duration_ms": "\(duration.totalMilliseconds)",
                                    ]
                                    if outcome == .succeeded {
                                        logger.info("job run finished", metadata: metadata)
                                    } else {
                                        logger.warning("job run failed", metadata: metadata.merging(["error": "\(outcome.error ?? "")"]) { $1 })
                                    }
                                }
                                continuation.yield(.recorded(claim.claimID, accepted))
                            } catch {
                                logger.warning("recording the outcome failed; retrying", metadata: ["error": "\(error)"])
                                continuation.yield(.recorded(claim.claimID, nil))
                            }
                        }
                    case .releaseLease(let claim):
                        group.addTask { [store, logger, clock] in
                            do {
                                let released = try await store.release(claim, now: clock.now())
                                logger.notice(released ? "handed the slot back for another node" : "slot was no longer ours to hand back", metadata: [
                                    "steadfast.job.slot": "\(claim.slotKey)", "steadfast.job.token": "\(claim.fencingToken)",
                                ])
                            } catch {
                                logger.warning("handing the slot back failed; its lease will expire instead", metadata: ["error": "\(error)"])
                            }
                            continuation.yield(.released(claim.claimID))
                        }
                    case .reportLost(let claim, let reason):
                        metrics.lost(job: claim.job, reason: reason)
                        logger.warning("lost the slot: another node has taken it or will take it over", metadata: [
                            "steadfast.job.slot": "\(claim.slotKey)", "steadfast.job.token": "\(claim.fencingToken)", "steadfast.job.reason": "\(reason.rawValue)",
                        ])
                    case .leaveBodyBehind(let claim):
                        logger.warning("job body did not stop when cancelled; leaving it behind (its writes are fenced)", metadata: [
                            "steadfast.job.slot": "\(claim.slotKey)", "steadfast.job.token": "\(claim.fencingToken)",
                        ])
                        bodies[claim.claimID] = nil
                    case .stop:
                        break eventLoop
                    }
                }
                // Keep only the body of the claim held now.
                if case .holding(let holding) = machine.state {
                    bodies = bodies.filter { $0.key == holding.claim.claimID }
                } else {
                    bodies.removeAll()
                }
                // A run just ended: look again at once (a catch-up backlog, a manual run).
                if heldBefore, case .idle = machine.state { continuation.yield(.wake) }

                // The timer is a task of its own, not a child of `group` reporting a tick with an id
                // (PostgresCluster's monitor shape, where a superseded timer sleeps on and its event
                // is ignored), because a superseded timer must stop sleeping at once, and a group
                // child cannot be cancelled alone. The deadline moves on almost every pass; stale
                // children would stay asleep on the injected clock until their old deadlines: on a
                // test's `ManualClock` they stay among its sleepers, so `isSleeping(for:)` (which
                // tests wait on before moving time) could see a stale timer of the same length and
                // move time before the runner has armed its real one; and when the loop ends the
                // group would wait for them, or a `cancelAll()` would also cancel the database work
                // still running in it (a lease hand-back). This task only yields `.tick`; it is
                // cancelled when superseded (here) and when the loop ends (after it).
                timer?.cancel()
                let deadline: Date?
                if case .idle = machine.state {
                    deadline = [machine.nextDeadline, nextAttemptAt].compactMap { $0 }.min()
                } else {
                    deadline = machine.nextDeadline
                }
                if let deadline {
                    // On the injected clock: a test's clock drives the lease and timeout deadlines.
                    let delay = max(.zero, clock.now().duration(to: deadline)) + .milliseconds(1)
                    timer = Task { [clock] in
                        guard (try? await clock.sleep(for: delay)) != nil, !Task.isCancelled else { return }
                        continuation.yield(.tick)
                    }
                } else {
                    timer = nil
                }
            }
            timer?.cancel()
            // Forced stop (cancellation): do not leave bodies running.
            for body in bodies.values { body.task.cancel() }
        }
    }

    /// Starts the body in its own task (so it can be cancelled alone).
    private func startBody(_ claim: Claim) -> Task<Void, Never> {
        var bodyLogger = logger
        bodyLogger[metadataKey: "steadfast.job.slot"] = .string(claim.slotKey)
        bodyLogger[metadataKey: "steadfast.job.token"] = .string("\(claim.fencingToken)")
        let lag = claim.kind == .scheduled ? clock.now().timeIntervalSince(claim.slotAt) : nil
        metrics.started(job: claim.job, lag: lag, takenOver: claim.takenOver)
        let metadata: Logger.Metadata = ["steadfast.job.kind": "\(claim.kind.rawValue)", "steadfast.job.missed": "\(claim.missedSlots)"]
        if claim.takenOver {
            bodyLogger.notice("took the slot over from another holder; running the job", metadata: metadata)
        } else if claim.missedSlots > 0 || claim.kind == .manual {
            bodyLogger.notice("claimed the slot; running the job", metadata: metadata)
        } else {
            bodyLogger.debug("claimed the slot; running the job", metadata: metadata)
        }
        let context = JobContext(claim: claim, node: node, clock: clock, logger: bodyLogger, database: store.database)
        let body = definition.body
        let continuation = self.continuation
        return Task {
            let result: ClaimStateMachine.BodyResult
            do {
                try await body(context)
                result = .succeeded
            } catch let error as JobError where error.code == .fenced {
                bodyLogger.warning("a write of this run was refused by its fencing token", metadata: ["error": "\(error)"])
                result = .fenced
            } catch is CancellationError {
                result = .cancelled
            } catch let error as DatabaseError where [.connectionFailure, .timeout, .readOnly].contains(error.kind) {
                bodyLogger.warning("the job could not reach the database; it will run again shortly", metadata: ["error": "\(error)"])
                result = .unavailable(String(describing: error))
            } catch {
                result = .failed(String(describing: error))
            }
            continuation.yield(.bodyFinished(claim.claimID, result))
        }
    }
}
