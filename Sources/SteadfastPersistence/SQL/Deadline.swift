import Synchronization

/// Runs `operation`, failing with a `.timeout` ``DatabaseError`` if it takes longer than `limit`,
/// or with a `.connectionFailure` one as soon as `abandon` fires (its host was given up on).
///
/// Either way the caller gets its error at once and the operation is cancelled but not waited
/// for: a statement stuck on a dead or hung connection cannot hold a request beyond the bound
/// (a task group would wait for it). `mayHaveCommitted` is set on a timeout, as the operation
/// may still complete; on abandonment `mayHaveCommitted()` says whether it may.
func withDeadline<T: Sendable>(
    _ limit: Duration,
    abandonWhen abandon: OneShotEvent? = nil,
    mayHaveCommitted: @escaping @Sendable () -> Bool = { true },
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let gate = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            gate.install(continuation)
            let work = Task {
                do { gate.resume(with: .success(try await operation())) } catch { gate.resume(with: .failure(error)) }
            }
            let timer = DeadlineWatch.shared.add(deadline: .now + limit) {
                if gate.resume(with: .failure(DatabaseError(.timeout, message: "no answer from the database within \(limit)", mayHaveCommitted: true))) {
                    work.cancel()
                }
            }
            let observer = abandon?.observe {
                let error = DatabaseError(.connectionFailure, message: "the database host was given up on while the statement ran", mayHaveCommitted: mayHaveCommitted())
                if gate.resume(with: .failure(error)) { work.cancel() }
            }
            gate.onFinish {
                DeadlineWatch.shared.remove(timer)
                if let observer { abandon?.removeObserver(observer) }
            }
        }
    } onCancel: {
        gate.resume(with: .failure(CancellationError()))
    }
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

/// One clock for every ``withDeadline(_:_:)`` in the process.
///
/// A timer task per statement (create, sleep, cancel, wake) cost more than the statement itself
/// on a busy node; here a deadline is an entry in a table that one task checks every `tick`, so
/// a deadline fires at most a tick late. The task runs only while deadlines are pending.
final class DeadlineWatch: Sendable {
    static let shared = DeadlineWatch(tick: .milliseconds(10))

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let fire: @Sendable () -> Void
    }

    private struct State {
        var lastID = 0
        var entries: [Int: Entry] = [:]
        var ticking = false
    }

    private let tick: Duration
    private let state = Mutex(State())

    init(tick: Duration) {
        self.tick = tick
    }

    /// Calls `fire` once `deadline` has passed, unless ``remove(_:)`` is called first.
    func add(deadline: ContinuousClock.Instant, _ fire: @escaping @Sendable () -> Void) -> Int {
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

    private func watch() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
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
