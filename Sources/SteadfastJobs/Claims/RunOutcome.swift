/// How a run ended, as recorded in `job_runs.state` (and `error`).
public enum RunOutcome: Sendable, Equatable {
    case succeeded
    /// The body threw; the message is the error's description (never bound values or secrets:
    /// the module's errors and ``SteadfastPersistence/DatabaseError`` keep those out).
    case failed(String)
    /// The body ran past the job's timeout and was cancelled.
    case timedOut

    /// The `job_runs.state` value.
    public var state: String {
        switch self {
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .timedOut: "timed_out"
        }
    }

    /// The `job_runs.error` value.
    public var error: String? {
        switch self {
        case .succeeded: nil
        case .failed(let message): String(message.prefix(500))
        case .timedOut: "timed out"
        }
    }
}
