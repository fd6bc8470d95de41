import Synchronization

/// A first-in-first-out lock that suspends (instead of blocking a thread) while it waits; an
/// unlock hands the lock straight to the first waiter. Waits are not ended by cancellation (a
/// transaction waiting for the writer is not abandoned half-way); for a cancellable wait, and
/// for more than one holder, see ``AsyncSemaphore``.
///
/// Used to give one SQLite connection to one transaction at a time.
public final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func lock() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    public func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            // Ownership passes straight to the next waiter; `locked` stays true.
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Callers waiting for the lock now (for tests).
    public var waiting: Int { state.withLock { $0.waiters.count } }

    public func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }
}
