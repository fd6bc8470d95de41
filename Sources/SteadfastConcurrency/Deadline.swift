import SteadfastDomain

/// The error of an operation that ``withDeadline(_:clock:_:)`` cancelled at its time limit.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    /// The time limit that passed.
    public let limit: Duration
    /// What the operation threw once cancelled, or nil if it returned a value all the same: it
    /// had finished either way by the time the caller got this error. The database layer reads
    /// from it whether the work may have committed.
    public let underlying: (any Error)?

    public init(limit: Duration, underlying: (any Error)?) {
        self.limit = limit
        self.underlying = underlying
    }

    public var description: String { "no answer within \(DurationText.format(limit))" }
}

/// Runs `operation`, cancelling it once `limit` has passed on `clock`. The one deadline helper of
/// the code base.
///
/// It is structured: a task group of two children, the operation and a timer; whichever ends
/// first cancels the other, and the call returns only when both have ended. So **when it
/// returns, the operation has finished** — nothing it started is left running, and what it
/// reports (whether a transaction committed, say) is final.
///
/// - The operation ends in time: its value or error, unchanged.
/// - The limit passes first: the operation is cancelled and awaited, and the caller gets
///   ``DeadlineExceeded``, with what the operation threw as `underlying` (nil if it returned a
///   value all the same: a late answer is not used).
/// - The caller is cancelled: the operation is cancelled too (a child task), and its outcome is
///   returned unchanged (typically `CancellationError`).
///
/// How soon the caller hears back after the limit is therefore up to the operation: it must end
/// promptly when cancelled. Work that waits on something cancellation does not end (a blocking
/// call on a thread, a NIO future) ends it in a cancellation handler: the database engine closes
/// the connection (see `PostgresEngine`). An operation that ignores cancellation holds the
/// caller until it ends, by design: leaving it behind is what this helper used to do, which
/// needed a separate gate to stop late commits.
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    clock: any Clock<Duration> = ContinuousClock(),
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = await withTaskGroup(of: DeadlineRace<T>.self) { group -> Result<T, any Error> in
        group.addTask {
            do { return .finished(.success(try await operation())) } catch { return .finished(.failure(error)) }
        }
        group.addTask {
            do {
                try await clock.sleep(for: limit)
                return .expired
            } catch {
                return .timerStopped  // cancelled: the operation ended, or the caller was cancelled
            }
        }
        var expired = false
        while let event = await group.next() {
            switch event {
            case .finished(let result):
                group.cancelAll()
                guard expired else { return result }
                switch result {
                case .success: return .failure(DeadlineExceeded(limit: limit, underlying: nil))
                case .failure(let error): return .failure(DeadlineExceeded(limit: limit, underlying: error))
                }
            case .expired:
                expired = true
                group.cancelAll()
            case .timerStopped:
                continue
            }
        }
        // Unreachable: the operation's child always reports before the group runs dry.
        return .failure(CancellationError())
    }
    return try outcome.get()
}

/// An instant on an injected clock, for a loop of its own that must stop there: how much time
/// is left, whether it has passed, and a sleep until it does. The clock stays `any Clock`
/// (whatever the caller was given: `ContinuousClock` in production, a test clock in tests);
/// its instant is captured once, when the deadline is made. ``withDeadline(_:clock:_:)`` bounds
/// one operation; this is for code that hands out what is left of a bound across several
/// (the PostgreSQL client's attempts and its wait for a usable host), and for ``poll(every:within:clock:until:)``.
public struct Deadline: Sendable {
    private let left: @Sendable () -> Duration
    private let clock: any Clock<Duration>

    /// The instant `limit` from now on `clock`.
    public init(after limit: Duration, on clock: any Clock<Duration>) {
        self.clock = clock
        self.left = Self.countdown(limit, on: clock)
    }

    /// Opens the clock, whose instants can then be kept and compared.
    private static func countdown<C: Clock<Duration>>(_ limit: Duration, on clock: C) -> @Sendable () -> Duration {
        let end = clock.now.advanced(by: limit)
        return { clock.now.duration(to: end) }
    }

    /// The time left until the deadline on its clock: zero or less once it has passed.
    public var remaining: Duration { left() }

    /// Whether the clock has reached the deadline.
    public var hasPassed: Bool { left() <= .zero }

    /// Returns once the clock has reached the deadline (at once if it has); throws
    /// `CancellationError` if the task is cancelled first.
    public func sleepUntilPassed() async throws {
        let remaining = left()
        guard remaining > .zero else { return try Task.checkCancellation() }
        try await clock.sleep(for: remaining)
    }
}

/// What each child of ``withDeadline(_:clock:_:)`` reports.
private enum DeadlineRace<T: Sendable>: Sendable {
    case finished(Result<T, any Error>)
    case expired
    case timerStopped
}
