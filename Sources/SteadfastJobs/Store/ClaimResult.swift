/// What a claim attempt (``JobStore/claimNext(_:node:claimID:now:lease:)``) found.
public enum ClaimResult: Sendable, Equatable {
    /// This node holds `claim` now.
    case claimed(Claim)
    /// Another node's lease on slot `slotKey` is live (one slot of a job runs at a time).
    case busy(slotKey: String, holder: String?)
    /// Nothing is due. `skipped`: missed slots this attempt passed over by the catch-up policy;
    /// `abandoned`: a slot given up after too many takeovers.
    case nothing(skipped: Int, abandoned: String?)
}
