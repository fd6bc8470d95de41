/// The one error type of the scheduler module.
///
/// A `struct` over a private set of codes, so new cases can be added without breaking callers;
/// callers compare ``code``. Descriptions name jobs and schedules, never data or bound values.
public struct JobError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// A fenced write was refused: this run no longer holds its slot (another node took it
        /// over with a higher fencing token, or the run already finished or was handed back).
        case fenced
        /// A cron expression or interval could not be parsed or never fires.
        case invalidSchedule
        /// A job definition is invalid (bad name, duplicate name, timeout out of range).
        case invalidDefinition
        /// No job of that name has been published by any node.
        case unknownJob
        /// The scheduler's database rows are not what the code expects.
        case corruptState
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The write was refused by the fencing token of `job`'s slot `slotKey` (this holder's token
    /// was `token`).
    public static func fenced(job: String, slotKey: String, token: Int64) -> JobError {
        JobError(.fenced, "job \(job) slot \(slotKey): fencing token \(token) is no longer current; the write was refused")
    }

    static func invalidSchedule(_ message: String) -> JobError { JobError(.invalidSchedule, message) }
    static func invalidDefinition(_ message: String) -> JobError { JobError(.invalidDefinition, message) }

    public var description: String { message }
}
