/// The part of a job definition the claim logic needs (no body, so it is a plain value).
public struct ClaimRules: Sendable, Equatable {
    public var job: String
    public var schedule: Schedule
    public var catchUp: CatchUpPolicy
    public var lateAfterMilliseconds: Int64
    public var maxTakeovers: Int

    public init(job: String, schedule: Schedule, catchUp: CatchUpPolicy, lateAfterMilliseconds: Int64, maxTakeovers: Int = 3) {
        self.job = job
        self.schedule = schedule
        self.catchUp = catchUp
        self.lateAfterMilliseconds = lateAfterMilliseconds
        self.maxTakeovers = maxTakeovers
    }
}
