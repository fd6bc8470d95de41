import Synchronization

/// A `Clock` whose time moves only when code sleeps on it, when a test calls ``advance(by:)``,
/// or by a fixed step on every reading: a sleep returns at once with the clock moved to its
/// deadline. Code that takes a clock runs the same under it as under `ContinuousClock`, but a
/// wait of seconds takes no real time and cannot be starved by a slow machine: how much virtual
/// time passed depends only on what the code did.
public final class VirtualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock was made.
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "\(offset)" }
    }

    private struct State {
        var now: Duration = .zero
        var sleeps = 0
    }

    private let state = Mutex(State())
    private let stepPerReading: Duration

    /// A clock at offset zero; every reading of ``now`` first moves it by `stepPerReading`.
    public init(stepPerReading: Duration = .zero) {
        self.stepPerReading = stepPerReading
    }

    public var now: Instant {
        state.withLock { state in
            state.now += stepPerReading
            return Instant(offset: state.now)
        }
    }

    public var minimumResolution: Duration { .zero }

    /// How many sleeps the code under test has made.
    public var sleeps: Int { state.withLock { $0.sleeps } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            state.sleeps += 1
            state.now = max(state.now, deadline.offset)
        }
        // Let other tasks run, as a real sleep would.
        await Task.yield()
    }
}
