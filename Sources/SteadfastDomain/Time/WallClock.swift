#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one clock of the node's business rules and their timers: it tells the time (leases,
/// expiries, schedules and due dates are instants on it) and it sleeps (the scheduler's timers
/// wait on it), so a test that moves it by hand drives every deadline measured on it without
/// waiting. Injected everywhere; ``SystemWallClock`` in production, `ManualClock` in tests.
///
/// (Statement deadlines run on a Swift `Clock` instead — see `DeadlineWatch` in
/// SteadfastConcurrency — as they measure elapsed time, not instants.)
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date

    /// Returns once `duration` has passed on this clock; throws `CancellationError` if the task
    /// is cancelled first.
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
