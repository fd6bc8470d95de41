import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence

/// What a job body gets: the slot it runs for, its fencing token, a clock and a logger, and a way
/// to make writes that only commit while this run still holds the slot.
public struct JobContext: Sendable {
    /// The claim this run holds.
    public let claim: Claim
    /// This node's id.
    public let node: String
    public let clock: any WallClock
    /// Carries `steadfast.job.name`, `steadfast.job.slot` and `steadfast.job.token`.
    public let logger: Logger
    /// The database the scheduler claims on (the node's database).
    public let database: any SQLDatabase

    public init(claim: Claim, node: String, clock: any WallClock, logger: Logger, database: any SQLDatabase) {
        self.claim = claim
        self.node = node
        self.clock = clock
        self.logger = logger
        self.database = database
    }

    public var job: String { claim.job }
    /// The slot's time: the scheduled instant (for a manual run, when it was requested). Jobs that
    /// act "as of" a time (billing) should use this rather than the clock, so a late or repeated
    /// run does the same work.
    public var slot: Date { claim.slotAt }
    public var slotKey: String { claim.slotKey }
    /// Grows by one each time another node takes the slot over.
    public var fencingToken: Int64 { claim.fencingToken }
    public var kind: RunKind { claim.kind }
    /// How many missed slots this run stands for (``CatchUpPolicy/runOnce``); usually 0.
    public var missedSlots: Int { claim.missedSlots }

    /// Runs `body` in a transaction that first checks, holding a lock on the run's row, that this
    /// run still holds the slot with its fencing token; otherwise it throws ``JobError`` with
    /// code `fenced` and nothing is written. A holder that was paused or cut off past its lease,
    /// while another node took the slot over, can therefore never commit late.
    @discardableResult
    public func fencedTransaction<T: Sendable>(
        _ options: TransactionOptions = .default, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        let claim = self.claim
        return try await database.transaction(options) { executor in
            try await JobStore.checkFence(claim, on: executor)
            return try await body(executor)
        }
    }

    /// Makes the run's effect and the run's completion one transaction: checks the fencing token
    /// (as ``fencedTransaction(_:_:)``), runs `body`, and marks the run succeeded. Once it has
    /// committed, the slot can never be run again — not even if this node dies before recording
    /// the outcome, which would otherwise let another node take the slot over and repeat the work.
    ///
    /// It is idempotent per claim: repeated after a failure that left it unknown whether it
    /// committed, it finds the run completed by this claim, skips `body` and returns `false` — so
    /// it runs with `TransactionOptions(idempotent: true)` and is retried on the new primary after
    /// a failover. `body` must therefore be the last thing the job does. Returns `true` when this
    /// call committed the work.
    @discardableResult
    public func completingTransaction(_ body: @escaping @Sendable (any SQLExecutor) async throws -> Void) async throws -> Bool {
        let claim = self.claim
        let clock = self.clock
        return try await database.transaction(TransactionOptions(idempotent: true)) { executor in
            guard try await JobStore.checkFenceForCompletion(claim, on: executor) else { return false }
            try await body(executor)
            try await JobStore.complete(claim, now: clock.now(), on: executor)
            return true
        }
    }
}
