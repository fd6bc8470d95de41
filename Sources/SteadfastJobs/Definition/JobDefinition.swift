/// A job the scheduler runs: a name, a schedule, a timeout, what to do about missed slots, and
/// the body.
///
/// ```swift
/// jobs.add(JobDefinition("billing", schedule: try .cron("0 * * * *"), catchUp: .runOnce) { context in
///     _ = try await recurring.runAll(now: context.slot)
/// })
/// ```
///
/// A body runs once per slot across the cluster — but if its node dies mid-run, another node
/// runs the slot again from the start after the lease expires. So a body's effects must be
/// idempotent by their own keys (as billing's are) or made through
/// ``JobContext/fencedTransaction(_:_:)``, which refuses writes from a holder that lost its slot.
public struct JobDefinition: Sendable {
    /// Unique name: lower-case letters, digits, `-`, `_` and `.`, at most 63 characters.
    public let name: String
    public let schedule: Schedule
    /// The body is cancelled after this long and the run recorded as timed out.
    public var timeout: Duration
    public var catchUp: CatchUpPolicy
    /// How late a slot may start and still count as on time (see ``CatchUpPolicy``).
    public var lateAfter: Duration
    /// After this many holders lost the lease of one slot (crashed or hung), the slot is
    /// recorded as abandoned instead of being taken over again.
    public var maxTakeovers: Int
    public let body: @Sendable (JobContext) async throws -> Void

    public init(
        _ name: String, schedule: Schedule, timeout: Duration = .seconds(600), catchUp: CatchUpPolicy = .runOnce,
        lateAfter: Duration? = nil, maxTakeovers: Int = 3, body: @escaping @Sendable (JobContext) async throws -> Void
    ) {
        precondition(Self.isValidName(name), "job name '\(name)' must be 1-63 of a-z 0-9 - _ . and start with a letter or digit")
        precondition(timeout > .zero, "job \(name): timeout must be positive")
        precondition(maxTakeovers >= 1, "job \(name): maxTakeovers must be at least 1")
        self.name = name
        self.schedule = schedule
        self.timeout = timeout
        self.catchUp = catchUp
        self.lateAfter = lateAfter ?? schedule.defaultLateAfter
        self.maxTakeovers = maxTakeovers
        self.body = body
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63 else { return false }
        let alphanumeric: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return alphanumeric(first) && name.unicodeScalars.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// What the claim logic needs to know about the job.
    public var rules: ClaimRules {
        ClaimRules(job: name, schedule: schedule, catchUp: catchUp, lateAfterMilliseconds: lateAfter.totalMilliseconds, maxTakeovers: maxTakeovers)
    }
}
