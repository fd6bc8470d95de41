import Foundation

/// At most `limit` events per fixed `window` (e.g. 10 log-in attempts per 15 minutes).
///
/// Windows are aligned to the Unix epoch, so every node computes the same window for the same
/// instant and one counter per key and window, kept in the shared database, is the whole
/// state. A fixed window lets a burst of up to `2 × limit` straddle a boundary; that is the
/// price of one row and one statement per event, and documented in docs/security.md.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public let limit: Int
    public let window: Duration

    /// `limit` ≥ 1 events per `window` ≥ 1 s.
    public init?(limit: Int, window: Duration) {
        guard limit >= 1, window >= .seconds(1) else { return nil }
        self.limit = limit
        self.window = window
    }

    var windowMilliseconds: Int64 { window.totalMilliseconds }

    /// The number of the window that holds `instant`, and when that window ends.
    public func window(containing instant: Date) -> (number: Int64, end: Date) {
        let milliseconds = Int64((instant.timeIntervalSince1970 * 1000).rounded(.down))
        let size = windowMilliseconds
        let number = milliseconds >= 0 ? milliseconds / size : (milliseconds - size + 1) / size
        return (number, Date(timeIntervalSince1970: Double((number + 1) * size) / 1000))
    }

    /// Whether the `hits`-th event of the window ending at `end` may go ahead at `now`; if not,
    /// how many whole seconds until the window ends (at least 1: the `Retry-After` value).
    public func decision(hits: Int64, windowEnd end: Date, now: Date) -> RateLimitDecision {
        guard hits > Int64(limit) else { return .allowed }
        return .limited(retryAfterSeconds: max(1, Int(end.timeIntervalSince(now).rounded(.up))))
    }

    /// As configured: `10/15m` (N/DURATION, the window in the one duration grammar).
    public var description: String { "\(limit)/\(DurationText.format(window))" }
}

/// What a ``RateLimit`` says about one event.
public enum RateLimitDecision: Sendable, Equatable {
    case allowed
    /// Refused; try again after this many seconds.
    case limited(retryAfterSeconds: Int)
}
