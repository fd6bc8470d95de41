import Foundation

/// A published job with its latest run and next slot, for `steadfast jobs list` and the admin page.
public struct JobSummary: Sendable, Equatable {
    public var name: String
    /// As ``Schedule/description`` writes it: `every 5m`, `0 3 * * * (Europe/Berlin)`.
    public var schedule: String
    /// `run_once`, `run_all:N` or `skip`.
    public var catchUp: String
    public var timeout: Duration
    /// The latest scheduled slot claimed or skipped.
    public var cursor: Date?
    /// Missed slots passed over by the catch-up policy, in all.
    public var skippedSlots: Int
    public var publishedAt: Date
    public var publishedBy: String
    /// The most recent run (running, finished or pending).
    public var lastRun: JobRunRecord?
    /// The most recent finished run.
    public var lastFinished: JobRunRecord?
    /// The next slot after now by the schedule (`nil` if the schedule cannot be read).
    public var nextSlotAt: Date?
}
