import Foundation

/// A slot this node holds: the row it inserted or took over in `job_runs`, and the fencing
/// token and claim id its lease renewals, fenced writes and outcome are conditional on.
public struct Claim: Sendable, Equatable, Hashable {
    public let job: String
    /// The slot's identity: its UTC instant (`2025-03-30T01:00:00.000Z`) or `manual:<uuid>`.
    public let slotKey: String
    public let slotAt: Date
    public let kind: RunKind
    /// 1 for the first holder; one more for each takeover.
    public let fencingToken: Int64
    /// Unique per claim (a node that claims the same slot twice gets two ids), so a retried claim
    /// can recognise its own row.
    public let claimID: UUID
    /// The slot came from another holder (lease expired or handed back).
    public let takenOver: Bool
    /// Missed slots this run stands for (``CatchUpPolicy/runOnce``).
    public let missedSlots: Int

    public init(job: String, slotKey: String, slotAt: Date, kind: RunKind, fencingToken: Int64, claimID: UUID, takenOver: Bool = false, missedSlots: Int = 0) {
        self.job = job
        self.slotKey = slotKey
        self.slotAt = slotAt
        self.kind = kind
        self.fencingToken = fencingToken
        self.claimID = claimID
        self.takenOver = takenOver
        self.missedSlots = missedSlots
    }
}
