import Synchronization

/// A counting semaphore that suspends (instead of blocking a thread) while it waits: at most
/// `permits` holders at once, the others wait their turn, first come first served.
///
/// Used for the invoice PDF renderings on a node (`billing.pdf_concurrency`, each one a headless
/// Chromium) and for the SQLite engine's reader connections (`SQLiteReaderPool`: the semaphore
/// counts the connections, a `Mutex` keeps the idle ones).
///
/// Cancellation ends a *wait*, it does not refuse a free permit: ``acquire()`` takes a free
/// permit at once, like a lock (no allocation, one `Mutex` section: the SQLite readers' hot
/// path); a caller that must wait and whose task is cancelled — before or while it waits —
/// leaves the queue and gets `CancellationError`, holding nothing. A permit released while a
/// caller waits goes straight to the first waiter (exactly one is woken), so a newcomer never
/// overtakes the queue. A cancellation that comes after the permit was handed over is too late:
/// ``acquire()`` returns, and the caller holds the permit.
///
/// Why a type of our own: none of the package's libraries offers an async counting semaphore.
/// NIO's `NIOThreadPool` bounds threads, not async waits; ServiceLifecycle, AsyncHTTPClient and
/// Hummingbird have none; swift-async-algorithms (not a dependency) has none either. A
/// standard-library `Mutex` guards the state only while a continuation is stored or taken — no
/// lock is held across an `await`.
public final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        /// First come, first served; `id` finds a cancelled waiter.
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var lastID: UInt64 = 0

        /// Takes a free permit if there is one and nobody is ahead.
        mutating func takeFree() -> Bool {
            guard available > 0, waiters.isEmpty else { return false }
            available -= 1
            return true
        }
    }

    /// How many holders at most (at least 1).
    public let permits: Int
    private let state: Mutex<State>

    public init(permits: Int) {
        self.permits = max(1, permits)
        state = Mutex(State(available: self.permits))
    }

    /// Takes a permit, waiting for one if none is free. Throws `CancellationError`, holding
    /// nothing, if it must wait and the task is cancelled (before or while waiting) before a
    /// permit is handed to it; a free permit is taken even by a cancelled task.
    public func acquire() async throws {
        // Fast path: a free permit and nobody ahead, taken without a continuation.
        if state.withLock({ $0.takeFree() }) { return }
        try await wait()
    }

    private func wait() async throws {
        let id = state.withLock { state -> UInt64 in
            state.lastID &+= 1
            return state.lastID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case granted, cancelled, wait }
                let now = state.withLock { state -> Now in
                    // A permit may have come back since the fast path looked.
                    if state.takeFree() { return .granted }
                    // Checked under the lock: a cancellation after this finds the waiter queued.
                    if Task.isCancelled { return .cancelled }
                    state.waiters.append((id: id, continuation: continuation))
                    return .wait
                }
                switch now {
                case .granted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Gives a permit back: to the first waiter if there is one (it alone is woken), else to the
    /// free count. Call once per successful ``acquire()``.
    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                precondition(state.available < permits, "AsyncSemaphore released more often than acquired")
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }

    /// Runs `body` holding a permit (waiting for one first), and gives the permit back whatever
    /// `body` does. Throws `CancellationError`, without running `body`, if the task is cancelled
    /// while waiting.
    public func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    /// Permits held now.
    public var inUse: Int { state.withLock { permits - $0.available } }

    /// Callers waiting for a permit now.
    public var waiting: Int { state.withLock { $0.waiters.count } }
}
