#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one clock of the node's timers, leases, expiries and business rules: it tells the time
/// (leases, expiries, schedules and due dates are instants on it), it sleeps (the scheduler's
/// timers and poll loop, the drain delay, the storage route refresher wait on it), and it reads
/// as a steady Swift `Clock` (``steady``) for intervals that must not jump when the wall clock is
/// set (the PostgreSQL role monitor's schedule). Injected everywhere from the node's assembly:
/// ``SystemWallClock`` in production, `ManualClock` in tests, which a test moves by hand so that
/// every deadline measured on it passes without waiting.
///
/// (Statement deadlines run on a Swift `Clock` of their own — `withDeadline(_:clock:_:)` in
/// SteadfastConcurrency: they bound network waits in real elapsed time.)
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date

    /// Returns once `duration` has passed on this clock; throws `CancellationError` if the task
    /// is cancelled first. Steady: setting the wall clock does not end or stretch it.
    func sleep(for duration: Duration) async throws

    /// This clock as a steady `Clock`: its instants move with ``sleep(for:)``'s time, never
    /// backwards, and its sleeps are this clock's sleeps.
    var steady: any Clock<Duration> { get }
}

/// The real clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
    public var steady: any Clock<Duration> { ContinuousClock() }
}

extension Date {
    /// The instant `duration` after this one: the one step from a `Duration` to a `Date`.
    public static func + (date: Date, duration: Duration) -> Date {
        date.addingTimeInterval(duration.totalSeconds)
    }

    /// The instant `duration` before this one.
    public static func - (date: Date, duration: Duration) -> Date {
        date.addingTimeInterval(-duration.totalSeconds)
    }

    /// The time from this instant to `other` (negative if `other` is earlier): the one step from
    /// two `Date`s to a `Duration`. Rounded to the microsecond, what the database stores: a
    /// `Date` holds a quarter of a microsecond at today's instants, so two dates a whole number
    /// of milliseconds apart give exactly that many milliseconds.
    public func duration(to other: Date) -> Duration {
        .microseconds((other.timeIntervalSince(self) * 1_000_000).rounded())
    }
}
