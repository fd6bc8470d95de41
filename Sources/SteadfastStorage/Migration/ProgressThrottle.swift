import Synchronization

/// Rate-limits progress reports (log lines, or output that is not a terminal): ``due(every:)``
/// is true at most once per interval.
public final class ProgressThrottle: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    public func due(every interval: Duration) -> Bool {
        last.withLock { last in
            let now = ContinuousClock.now
            if let previous = last, now - previous < interval { return false }
            last = now
            return true
        }
    }
}
