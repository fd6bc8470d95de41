/// Decides which scheduled slot of a job to claim now, from the job's cursor (the latest slot
/// claimed or skipped) and the time, by the job's ``CatchUpPolicy``. Pure.
public enum CatchUpPlanner {
    /// The decision. All instants are milliseconds since 1970.
    public struct Plan: Sendable, Equatable {
        /// The slot to claim now, if any.
        public var claim: Int64?
        /// The job's new cursor (the claimed slot, or the last slot skipped); `nil`: unchanged.
        public var advanceTo: Int64?
        /// Missed slots passed over without a run of their own.
        public var skipped: Int
        /// Missed slots the claimed run stands for (``CatchUpPolicy/runOnce``).
        public var covers: Int

        public init(claim: Int64? = nil, advanceTo: Int64? = nil, skipped: Int = 0, covers: Int = 0) {
            self.claim = claim
            self.advanceTo = advanceTo
            self.skipped = skipped
            self.covers = covers
        }

        /// Nothing to do.
        public static let nothing = Plan()
    }

    /// - Parameters:
    ///   - cursor: the job's latest claimed or skipped scheduled slot; `nil` if it never ran.
    ///   - now: the current time.
    public static func plan(_ rules: ClaimRules, cursor: Int64?, now: Int64) -> Plan {
        let late = rules.lateAfterMilliseconds
        guard let cursor else {
            // Never ran: start with the current slot if it is on time; nothing counts as missed.
            let recent = rules.schedule.slots(after: now - late - 1, through: now, keep: 1).recent
            guard let current = recent.last, now - current <= late else { return .nothing }
            return Plan(claim: current, advanceTo: current)
        }
        let limit: Int
        if case .runAll(let bound) = rules.catchUp { limit = max(1, bound) } else { limit = 1 }
        let (recent, total) = rules.schedule.slots(after: cursor, through: now, keep: limit + 1)
        guard let newest = recent.last else { return .nothing }
        let onTime: Int64? = now - newest <= late ? newest : nil
        let missed = total - (onTime == nil ? 0 : 1)
        let missedRecent = onTime == nil ? recent : Array(recent.dropLast())
        if missed == 0 {
            return Plan(claim: onTime, advanceTo: onTime)
        }
        switch rules.catchUp {
        case .runAll(let bound):
            // The newest `bound` missed slots, oldest first; anything older is skipped.
            let kept = Array(missedRecent.suffix(max(1, bound)))
            return Plan(claim: kept.first, advanceTo: kept.first, skipped: missed - kept.count)
        case .runOnce:
            if let onTime {
                return Plan(claim: onTime, advanceTo: onTime, skipped: missed, covers: missed)
            }
            return Plan(claim: newest, advanceTo: newest, skipped: missed - 1, covers: missed - 1)
        case .skip:
            if let onTime {
                return Plan(claim: onTime, advanceTo: onTime, skipped: missed)
            }
            return Plan(advanceTo: newest, skipped: missed)
        }
    }
}
