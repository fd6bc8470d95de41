import NIOCore

/// Limits retries of requests that may already have reached a backend to a share of all
/// requests (plus a small floor per second), so a sick cluster is not hit by a retry storm.
/// A token bucket counted in hundredths of a token (exact integer arithmetic): each request
/// deposits `percent` hundredths, time deposits `minPerSecond` tokens per second, and each such
/// retry withdraws one token.
public struct RetryBudget: Sendable, Equatable {
    public var percent: Int
    public var minPerSecond: Int
    /// Most hundredths of a token that can be banked (100 tokens plus one second's floor).
    public var capacity: Int { (100 + minPerSecond) * 100 }
    public private(set) var hundredths: Int
    private var lastRefill: NIODeadline?

    public init(percent: Int, minPerSecond: Int) {
        self.percent = percent
        self.minPerSecond = minPerSecond
        self.hundredths = minPerSecond * 100
    }

    /// A new client request started (not a retry).
    public mutating func requestStarted() {
        hundredths = min(capacity, hundredths + percent)
    }

    /// Takes one token if there is one.
    public mutating func tryWithdraw(now: NIODeadline) -> Bool {
        if let lastRefill {
            let refill = max(0, (now - lastRefill).nanoseconds) * Int64(minPerSecond) / 10_000_000
            // Time too short to earn a hundredth is not thrown away: the clock only moves on with a refill.
            if refill > 0 {
                hundredths = Int(min(Int64(capacity), Int64(hundredths) + refill))
                self.lastRefill = now
            }
        } else {
            lastRefill = now
        }
        guard hundredths >= 100 else { return false }
        hundredths -= 100
        return true
    }
}
