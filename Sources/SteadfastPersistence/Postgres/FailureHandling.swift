/// Decides what to do when work on a host failed: retry it elsewhere, or give up. Pure.
///
/// The rule that keeps money safe: work is only re-run when it certainly did not commit — it
/// failed before COMMIT was sent, the server refused it as read-only (25006), or it was
/// read-only — or when it is idempotent by its own unique key, so a second run finds the first
/// run's row and changes nothing.
public enum FailureHandling {
    /// What the failure says about the host it happened on.
    public enum HostVerdict: Sendable, Equatable {
        /// Nothing: the host is fine (e.g. a constraint violation).
        case healthy
        /// The host refused a write: it is a standby or a demoted primary. Drop its connections.
        case demoted
        /// The connection failed or the server is shutting down. Drop its connections and re-probe.
        case unreachable
    }

    /// The decision.
    public struct Decision: Sendable, Equatable {
        public var verdict: HostVerdict
        public var retry: Bool

        public init(verdict: HostVerdict, retry: Bool) {
            self.verdict = verdict
            self.retry = retry
        }
    }

    public static func decide(_ error: DatabaseError, readOnlyWork: Bool, idempotent: Bool) -> Decision {
        switch error.kind {
        case .readOnly:
            // Rejected by the server before anything was written.
            return Decision(verdict: .demoted, retry: true)
        case .connectionFailure, .timeout:
            let certainlyNotApplied = !error.mayHaveCommitted
            return Decision(verdict: .unreachable, retry: certainlyNotApplied || readOnlyWork || idempotent)
        case .serializationFailure:
            return Decision(verdict: .healthy, retry: true)
        default:
            return Decision(verdict: .healthy, retry: false)
        }
    }
}
