import Synchronization

/// Runs `operation`, failing with a `.timeout` ``DatabaseError`` if it takes longer than `limit`.
///
/// On timeout the caller gets its error at once and the operation is cancelled but not waited
/// for: a statement stuck on a dead connection cannot hold a request beyond the bound (a task
/// group would wait for it). `mayHaveCommitted` is set, as the operation may still complete.
func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let gate = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            gate.install(continuation)
            let work = Task {
                do { gate.resume(with: .success(try await operation())) } catch { gate.resume(with: .failure(error)) }
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                if gate.resume(with: .failure(DatabaseError(.timeout, message: "no answer from the database within \(limit)", mayHaveCommitted: true))) {
                    work.cancel()
                }
            }
            gate.onFinish { timer.cancel() }
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
