import Foundation
import SteadfastDomain

/// One row of `job_runs`, for history, the CLI and the admin page.
public struct JobRunRecord: Sendable, Equatable {
    public var job: String
    public var slotKey: String
    public var slotAt: Date
    public var kind: RunKind
    /// `pending`, `running`, `released`, `succeeded`, `failed`, `timed_out` or `abandoned`.
    public var state: String
    /// The node that holds or last held the slot.
    public var holder: String?
    public var fencingToken: Int64
    /// How many times the slot was taken over from a holder that lost its lease.
    public var takeovers: Int
    public var missedSlots: Int
    public var requestedBy: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var leaseExpiresAt: Date?
    public var duration: Duration?
    public var error: String?

    /// Finished (in a final state).
    public var isFinished: Bool { ["succeeded", "failed", "timed_out", "abandoned"].contains(state) }

    /// How long after its slot the run (last) started — the lag behind schedule.
    public var startLag: Duration? {
        guard kind == .scheduled, let startedAt else { return nil }
        return .milliseconds((slotAt.duration(to: startedAt) / .milliseconds(1)).rounded())
    }
}
