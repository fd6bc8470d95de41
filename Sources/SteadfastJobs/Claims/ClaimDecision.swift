import Foundation

/// What a node does when it looks for work for one job, given the job's open runs (pending,
/// running or handed back), its cursor and the time. Pure; the store runs it inside the claim
/// transaction, holding the job's lock.
///
/// Order: our own claim (a retried claim whose first attempt committed) → a live lease anywhere
/// (the job is busy: one slot at a time) → a dead or handed-back slot (take it over, or abandon
/// it after too many takeovers) → a pending manual run → the schedule (``CatchUpPlanner``).
public enum ClaimDecision: Sendable, Equatable {
    /// A run left open that this claim attempt already holds (`claimID` matches).
    case alreadyHeld(OpenRun)
    /// Another holder's lease is live: nothing to do now.
    case busy(OpenRun)
    /// Take the slot over: its holder's lease expired (`expired`) or was handed back.
    case takeOver(OpenRun, expired: Bool)
    /// The slot's holders lost the lease `maxTakeovers` times: record it as abandoned.
    case abandon(OpenRun)
    /// Start a pending manual run.
    case startManual(OpenRun)
    /// Claim (or skip) scheduled slots as planned.
    case schedule(CatchUpPlanner.Plan)

    /// A `job_runs` row that is still open.
    public struct OpenRun: Sendable, Equatable {
        public enum State: String, Sendable { case pending, running, released }
        public var slotKey: String
        public var slotAt: Int64
        public var kind: RunKind
        public var state: State
        public var fencingToken: Int64
        public var holder: String?
        public var claimID: UUID?
        public var leaseExpiresAt: Int64?
        public var takeovers: Int
        public var createdAt: Int64

        public init(
            slotKey: String, slotAt: Int64, kind: RunKind, state: State, fencingToken: Int64, holder: String? = nil, claimID: UUID? = nil,
            leaseExpiresAt: Int64? = nil, takeovers: Int = 0, createdAt: Int64 = 0
        ) {
            self.slotKey = slotKey
            self.slotAt = slotAt
            self.kind = kind
            self.state = state
            self.fencingToken = fencingToken
            self.holder = holder
            self.claimID = claimID
            self.leaseExpiresAt = leaseExpiresAt
            self.takeovers = takeovers
            self.createdAt = createdAt
        }
    }

    public static func decide(_ rules: ClaimRules, open: [OpenRun], cursor: Int64?, claimID: UUID, now: Int64) -> ClaimDecision {
        let running = open.filter { $0.state == .running }
        if let mine = running.first(where: { $0.claimID == claimID }) {
            return .alreadyHeld(mine)
        }
        if let live = running.first(where: { ($0.leaseExpiresAt ?? .min) > now }) {
            return .busy(live)
        }
        let orphaned = open.filter { $0.state == .released || $0.state == .running }.sorted { ($0.slotAt, $0.createdAt) < ($1.slotAt, $1.createdAt) }
        if let oldest = orphaned.first {
            let expired = oldest.state == .running
            if expired && oldest.takeovers + 1 > rules.maxTakeovers {
                return .abandon(oldest)
            }
            return .takeOver(oldest, expired: expired)
        }
        if let manual = open.filter({ $0.state == .pending }).min(by: { $0.createdAt < $1.createdAt }) {
            return .startManual(manual)
        }
        return .schedule(CatchUpPlanner.plan(rules, cursor: cursor, now: now))
    }
}
