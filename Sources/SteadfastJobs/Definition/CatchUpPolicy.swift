/// What happens to slots nobody claimed on time — because every node was down, or the job's
/// previous run was still going (one slot of a job runs at a time, cluster-wide).
///
/// A slot is *on time* while no more than the job's `lateAfter` has passed since it (by default
/// the interval up to one minute); slots older than that are *missed*. When a node next looks:
///
/// | policy | missed slots | the current slot, if on time |
/// | --- | --- | --- |
/// | ``runOnce`` | one run, for the newest missed slot — unless the current slot is on time, whose run then stands for them | runs |
/// | ``runAll(limit:)`` | each runs, oldest first, one after another; only the newest `limit` (older ones are skipped) | runs after them |
/// | ``skip`` | none runs | runs |
///
/// The run that stands for missed slots sees their number in ``JobContext/missedSlots``. A job
/// that has never run starts with its next on-time slot (nothing before it counts as missed).
public enum CatchUpPolicy: Sendable, Equatable, CustomStringConvertible {
    /// One run covers every missed slot (billing runs, clean-ups: each run does all that is due).
    case runOnce
    /// Every missed slot gets its own run, oldest first, up to `limit` of them.
    case runAll(limit: Int)
    /// Missed slots are dropped (reports that only make sense at their time).
    case skip

    /// `runAll` with the default bound of 100 missed slots.
    public static let runAll = CatchUpPolicy.runAll(limit: 100)

    /// `run_once`, `run_all:100`, `skip` (as stored and shown).
    public var description: String {
        switch self {
        case .runOnce: "run_once"
        case .runAll(let limit): "run_all:\(limit)"
        case .skip: "skip"
        }
    }

    /// Parses `run_once`, `run_all`, `run_all:N` or `skip`.
    public init?(parsing text: String) {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch lower {
        case "run_once": self = .runOnce
        case "run_all": self = .runAll
        case "skip": self = .skip
        default:
            guard lower.hasPrefix("run_all:"), let limit = Int(lower.dropFirst("run_all:".count)), limit >= 1 else { return nil }
            self = .runAll(limit: limit)
        }
    }
}
