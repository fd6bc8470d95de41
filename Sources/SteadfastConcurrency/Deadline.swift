import Synchronization

/// Why ``withDeadline(_:watch:abandonWhen:_:)`` gave up on its operation.
public enum DeadlineExpiry: Sendable, Equatable {
    /// The time limit passed.
    case timeLimit
    /// The event the operation was tied to (`abandonWhen`) fired: what it runs on was given up on.
    case abandoned
}

/// The error of an operation given up on by ``withDeadline(_:watch:abandonWhen:_:)``.
public struct DeadlineExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    public let expiry: DeadlineExpiry
    public let limit: Duration

    public init(_ expiry: DeadlineExpiry, limit: Duration) {
        self.expiry = expiry
        self.limit = limit
    }

    public var description: String {
        switch expiry {
        case .timeLimit: "no answer within \(limit)"
        case .abandoned: "given up on before it finished"
        }
    }
}

/// Runs `operation`, throwing ``DeadlineExceeded`` if it takes longer than `limit` on the
/// watch's clock, or as soon as `abandonWhen` fires. The one deadline helper of the code base.
///
/// The caller gets its error at the deadline and the operation is cancelled but **not waited
/// for**: it runs in a task of its own, which this call leaves behind. That is deliberate, and
/// the reason this is not a task group: not every wait in the database path ends when
/// cancelled. A structured helper (tried in d6be636, reverted in adfc5f9) waited for such work
/// and held a request for 10 s and a node's shutdown for 90 s. The likely culprit (read in the
/// code, not reproduced): PostgresNIO 1.33.2's pool `leaseConnection()` checks
/// `Task.isCancelled` and only then queues the request, so a cancellation landing between the
/// two finds nothing to cancel, and the lease waits until a connection frees up or the pool
/// shuts down — on a host that is down, for as long as it stays down. Operations
/// left behind must therefore be safe to finish late: the database engine makes them so with a
/// ``CommitGate`` (work reported as not committed never commits afterwards).
///
/// A caller's cancellation ends the call at once too (with `CancellationError`).
public func withDeadline<T: Sendable, C: Clock>(
    _ limit: Duration,
    watch: DeadlineWatch<C>,
    abandonWhen abandon: OneShotEvent? = nil,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T where C.Duration == Duration {
    let gate = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            gate.install(continuation)
            let work = Task {
                do { gate.resume(with: .success(try await operation())) } catch { gate.resume(with: .failure(error)) }
            }
            let timer = watch.add(after: limit) {
                if gate.resume(with: .failure(DeadlineExceeded(.timeLimit, limit: limit))) { work.cancel() }
            }
            let observer = abandon?.observe {
                if gate.resume(with: .failure(DeadlineExceeded(.abandoned, limit: limit))) { work.cancel() }
            }
            gate.onFinish {
                watch.remove(timer)
                if let observer { abandon?.removeObserver(observer) }
            }
        }
    } onCancel: {
        gate.resume(with: .failure(CancellationError()))
    }
}

/// ``withDeadline(_:watch:abandonWhen:_:)`` on the real clock (``DeadlineWatch/continuous``).
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    abandonWhen abandon: OneShotEvent? = nil,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(limit, watch: DeadlineWatch<ContinuousClock>.continuous, abandonWhen: abandon, operation)
}

/// Resumes a continuation exactly once, whichever of several racers gets there first.
final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var done = false
        var finish: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let pending = state.pending { return pending }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.done { return true }
            state.finish = action
            return false
        }
        if runNow { action() }
    }

    /// Returns `true` if this call was the one that resumed.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let (continuation, finish, won) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Bool) in
            guard !state.done else { return (nil, nil, false) }
            state.done = true
            if let continuation = state.continuation {
                state.continuation = nil
                return (continuation, state.finish, true)
            }
            state.pending = result
            return (nil, state.finish, true)
        }
        continuation?.resume(with: result)
        finish?()
        return won
    }
}

/// The timers of every ``withDeadline(_:watch:abandonWhen:_:)`` on one clock.
///
/// A timer task per statement (create, sleep, cancel, wake) cost more than the statement itself
/// on a busy node; here a deadline is an entry in a table that one task checks every `tick`
/// (so it fires at most a tick late), and that task runs only while deadlines are pending.
/// Tests give it a `VirtualClock`, on which ticks take no real time.
public final class DeadlineWatch<C: Clock>: Sendable where C.Duration == Duration {
    private struct Entry {
        let deadline: C.Instant
        let fire: @Sendable () -> Void
    }

    private struct State {
        var lastID = 0
        var entries: [Int: Entry] = [:]
        var ticking = false
    }

    private let clock: C
    private let tick: Duration
    private let state = Mutex(State())

    public init(clock: C, tick: Duration = .milliseconds(10)) {
        self.clock = clock
        self.tick = tick
    }

    /// Calls `fire` once `limit` has passed, unless ``remove(_:)`` is called first.
    func add(after limit: Duration, _ fire: @escaping @Sendable () -> Void) -> Int {
        let deadline = clock.now.advanced(by: limit)
        let (id, start) = state.withLock { state -> (Int, Bool) in
            state.lastID += 1
            state.entries[state.lastID] = Entry(deadline: deadline, fire: fire)
            defer { state.ticking = true }
            return (state.lastID, !state.ticking)
        }
        if start { Task.detached { await self.watch() } }
        return id
    }

    func remove(_ id: Int) {
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    /// How many deadlines are pending (for tests).
    public var pending: Int { state.withLock { $0.entries.count } }

    private func watch() async {
        while true {
            try? await clock.sleep(for: tick)
            let now = clock.now
            let (due, idle) = state.withLock { state -> ([Entry], Bool) in
                let ids = state.entries.compactMap { $0.value.deadline <= now ? $0.key : nil }
                let due = ids.compactMap { state.entries.removeValue(forKey: $0) }
                if state.entries.isEmpty { state.ticking = false }
                return (due, state.entries.isEmpty)
            }
            for entry in due { entry.fire() }
            if idle { return }
        }
    }
}

extension DeadlineWatch where C == ContinuousClock {
    /// The watch of the real clock, shared by the process.
    public static var continuous: DeadlineWatch<ContinuousClock> { continuousWatch }
}

private let continuousWatch = DeadlineWatch(clock: ContinuousClock())
