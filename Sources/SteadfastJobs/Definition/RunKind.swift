/// Why a run exists.
public enum RunKind: String, Sendable, Equatable {
    /// A slot of the job's schedule.
    case scheduled
    /// Requested by staff (`steadfast jobs run`, the admin page); its slot key is `manual:<uuid>`.
    case manual
}
