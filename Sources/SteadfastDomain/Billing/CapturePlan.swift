import Foundation

/// When the automatic capture job charges an invoice's saved card (docs/billing.md,
/// "Automatic capture"): pure rules, the attempts so far and the time passed in.
///
/// Attempt 1 is made once the invoice is due for capture. After a failed attempt `n`, attempt
/// `n + 1` is due `retry[n - 1]` after attempt `n` finished (`billing.capture_retry`, e.g.
/// `1d,3d,5d`: one day after the first failure, three days after the second, five after the
/// third); when the list is used up the job stops trying and the client pays by hand. An
/// attempt still `charging` was claimed by a run that did not finish (its node died or Stripe
/// did not answer): it is resumed under the same number, and so under the same provider key.
public struct CapturePlan: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case charging, succeeded, failed
    }

    public struct Attempt: Sendable, Equatable {
        public var number: Int
        public var status: Status
        public var finishedAt: Date?

        public init(number: Int, status: Status, finishedAt: Date?) {
            self.number = number
            self.status = status
            self.finishedAt = finishedAt
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Claim and make attempt `number` now.
        case charge(attempt: Int)
        /// Attempt `number` was claimed and never finished: find out what Stripe did, then finish it.
        case resume(attempt: Int)
        /// Nothing before `Date`.
        case wait(until: Date)
        /// Every retry failed: the job leaves this invoice alone.
        case exhausted
    }

    /// The delays between a failed attempt and the next.
    public var retry: [Duration]

    public init(retry: [Duration]) {
        self.retry = retry
    }

    /// What to do with an invoice that is due for capture and still has a balance, given its
    /// attempts (in any order).
    public func decide(attempts: [Attempt], now: Date) -> Decision {
        guard let last = attempts.max(by: { $0.number < $1.number }) else { return .charge(attempt: 1) }
        switch last.status {
        case .charging:
            return .resume(attempt: last.number)
        case .succeeded:
            // The money was recorded, yet a balance is left (a late fee added since): one more.
            return .charge(attempt: last.number + 1)
        case .failed:
            let failures = attempts.filter { $0.status == .failed }.count
            guard failures <= retry.count else { return .exhausted }
            let delay = retry[failures - 1]
            let finished = last.finishedAt ?? now
            let due = finished + delay
            return now >= due ? .charge(attempt: last.number + 1) : .wait(until: due)
        }
    }

    /// `billing.capture_retry`: comma-separated durations in the one duration grammar
    /// (``DurationText``), each at least one minute; empty for no retries. A failure names the
    /// offending item.
    public static func parseRetry(_ items: [String]) -> Result<[Duration], RetryError> {
        var delays: [Duration] = []
        for raw in items {
            let item = raw.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            guard let delay = DurationText.parse(item, bareNumberIsSeconds: false), delay >= .seconds(60) else {
                return .failure(RetryError(item: item))
            }
            delays.append(delay)
        }
        guard delays.count <= 20 else { return .failure(RetryError(item: "\(delays.count) delays (at most 20)")) }
        return .success(delays)
    }

    public struct RetryError: Error, Sendable, Equatable {
        public let item: String
        public init(item: String) { self.item = item }
    }
}
