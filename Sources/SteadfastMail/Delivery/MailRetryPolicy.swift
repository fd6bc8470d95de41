import Foundation
import SteadfastDomain

/// What happens to a message after a failed attempt. Pure: the attempt number, the failure and
/// the time go in, the decision comes out.
///
/// - a permanent refusal (an SMTP 5xx reply) fails the message at once;
/// - anything else (4xx, connection refused, timeout) is retried after `base × 2^(attempt−1)`,
///   at most `cap`, until `maxAttempts` attempts have been made; then it fails.
public struct MailRetryPolicy: Sendable, Hashable {
    public enum Decision: Sendable, Hashable {
        case retry(at: Date)
        case fail
    }

    public var base: Duration
    public var cap: Duration
    public var maxAttempts: Int

    public init(base: Duration = .seconds(60), cap: Duration = .seconds(3600), maxAttempts: Int = 10) {
        self.base = base
        self.cap = cap
        self.maxAttempts = max(1, maxAttempts)
    }

    /// `attempt` is the number of the attempt that just failed (1 for the first).
    public func decide(attempt: Int, permanent: Bool, now: Date) -> Decision {
        if permanent || attempt >= maxAttempts { return .fail }
        return .retry(at: now.addingTimeInterval(delay(afterAttempt: attempt)))
    }

    /// The wait after attempt `attempt`, in seconds (no overflow: the doubling stops at the cap).
    public func delay(afterAttempt attempt: Int) -> TimeInterval {
        let baseSeconds = base.totalSeconds, capSeconds = cap.totalSeconds
        var delay = baseSeconds
        var step = 1
        while step < attempt, delay < capSeconds {
            delay *= 2
            step += 1
        }
        return min(delay, capSeconds)
    }
}
