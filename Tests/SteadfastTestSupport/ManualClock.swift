import Foundation
import SteadfastDomain
import Synchronization

/// A clock tests move by hand. A sleep on it returns only once the test has moved the clock to
/// (or past) its deadline, or when its task is cancelled: code timed on it waits for the test,
/// never for real time. It drives both faces of a ``WallClock``: the wall time (``now()``) and
/// the steady `Clock` (``steady``); ``advance(by:)`` moves both, ``set(_:)`` only the wall time
/// (a wall-clock step, which sleeps do not notice, as in production).
public final class ManualClock: WallClock {
    private struct Sleeper {
        let deadline: Duration
        /// How long the sleep asked for, from when it began.
        let requested: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        /// Steady time since the clock was made: what sleeps are measured on.
        var elapsed: Duration = .zero
        var lastID = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state: Mutex<State>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { state = Mutex(State(now: start)) }

    public func now() -> Date { state.withLock { $0.now } }

    public var steady: any Clock<Duration> { Steady(clock: self) }

    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now + duration
            state.elapsed += duration
            let elapsed = state.elapsed
            let ids = state.sleepers.filter { $0.value.deadline <= elapsed }.map(\.key)
            return ids.compactMap { state.sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    public func advance(by seconds: TimeInterval) { advance(by: .seconds(seconds)) }

    /// Sets the wall time only, as an operator or NTP stepping the clock would.
    public func set(_ date: Date) { state.withLock { $0.now = date } }

    /// How many sleeps are waiting for the clock to move.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Whether a sleep that asked for exactly `duration` still waits on the clock: the code the
    /// test waits for (say a job body sleeping 800 ms) is asleep on it, not merely created,
    /// however slowly the machine schedules it; and it stays asleep until the test moves the
    /// clock past its deadline (or cancels it), so a test may move the clock only while this
    /// holds.
    public func isSleeping(for duration: Duration) -> Bool {
        state.withLock { $0.sleepers.values.contains { $0.requested == duration } }
    }

    public func sleep(for duration: Duration) async throws {
        try await sleep { $0 + duration }
    }

    /// Sleeps until steady time reaches `deadline(now)`.
    private func sleep(until deadline: @escaping @Sendable (Duration) -> Duration) async throws {
        let id = state.withLock { state -> Int in
            state.lastID += 1
            return state.lastID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    let deadline = deadline(state.elapsed)
                    if deadline <= state.elapsed { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, requested: deadline - state.elapsed, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The clock's steady face: instants are ``VirtualClock/Instant``s (time since the clock was
    /// made), sleeps are the clock's sleeps.
    struct Steady: Clock {
        let clock: ManualClock
        var now: VirtualClock.Instant { VirtualClock.Instant(offset: clock.state.withLock { $0.elapsed }) }
        var minimumResolution: Duration { .zero }
        func sleep(until deadline: VirtualClock.Instant, tolerance: Duration?) async throws {
            try await clock.sleep { _ in deadline.offset }
        }
    }
}

extension ManualClock {
    /// Drives code that waits on this clock, until `done` holds: moves the clock by `step` once
    /// the code has settled and `ready` holds. Settled: everything the last move woke has gone
    /// back to sleep on the clock (as many sleeps as before the move), so the clock does not run
    /// ahead of the code; or, as woken code may end instead (a loop stopping at shutdown), once
    /// 200 ms of real time have passed with something still asleep. Gives up once `limit` of the
    /// clock's time has passed, or when nothing sleeps on the clock and `done` does not hold
    /// within 30 s. Returns whether `done` held: how much clock time that took is the code's
    /// doing, not the machine's, so a test can assert on it.
    public func drive(
        by step: Duration, limit: Duration, ready: () async throws -> Bool, until done: () async throws -> Bool
    ) async rethrows -> Bool {
        var moved = Duration.zero
        var asleep = 0
        while true {
            if try await done() { return true }
            guard moved < limit else { return false }
            // Woken code back asleep (or given up on after 200 ms)...
            _ = try await eventually(timeout: .milliseconds(200), interval: .milliseconds(2)) {
                try await done() || sleepers >= asleep
            }
            // ...and something waiting on the clock, as the test wants it.
            let settled = try await eventually(timeout: .seconds(30), interval: .milliseconds(2)) {
                if try await done() { return true }
                guard sleepers > 0 else { return false }
                return try await ready()
            }
            if try await done() { return true }
            guard settled else { return false }
            asleep = sleepers
            advance(by: step)
            moved += step
            await Task.yield()
        }
    }

    /// ``drive(by:limit:ready:until:)`` with no condition but the code's settling.
    public func drive(by step: Duration, limit: Duration, until done: () async throws -> Bool) async rethrows -> Bool {
        try await drive(by: step, limit: limit, ready: { true }, until: done)
    }
}
