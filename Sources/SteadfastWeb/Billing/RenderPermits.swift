import Synchronization

/// At most `limit` invoice PDFs rendered at once on this node (`billing.pdf_concurrency`): each
/// rendering is a whole headless Chromium, so the page route and the mail delivery both take a
/// permit first; the others wait their turn, first come first served, and a waiter whose task is
/// cancelled (its request went away) leaves the queue without ever starting a browser.
///
/// Why a type of our own: none of the package's libraries offers an async counting semaphore.
/// NIO's `NIOThreadPool` bounds threads, but a rendering is an *async* wait for a child process
/// (``ProcessControl``), so bounding it with pool threads would park a thread per rendering and
/// still need the process wait to be blocking; ServiceLifecycle, AsyncHTTPClient and Hummingbird
/// have none; swift-async-algorithms (not a dependency) has none either. So the decisions are a
/// pure state machine, ``PermitQueue``, and a standard-library `Mutex` only guards its state
/// while a continuation is stored or taken — no lock is held across an `await`.
final class RenderPermits: Sendable {
    private let state: Mutex<PermitQueue<CheckedContinuation<Void, any Error>>>

    init(limit: Int) {
        state = Mutex(PermitQueue(limit: limit))
    }

    /// Runs `body` holding one permit; waits for one first. Throws `CancellationError` if the
    /// task is cancelled while waiting.
    func withPermit<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let id = state.withLock { $0.makeTicket() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                switch state.withLock({ $0.acquire(ticket: id, waiter: continuation) }) {
                case .granted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            state.withLock { $0.cancel(ticket: id) }?.resume(throwing: CancellationError())
        }
        defer { state.withLock { $0.release() }?.resume() }
        return try await body()
    }

    /// Renderings running now (for tests).
    var inUse: Int { state.withLock { $0.inUse } }
    /// Renderings waiting for a permit (for tests).
    var waiting: Int { state.withLock { $0.waiting.count } }
}

/// The permits' decisions, pure: tickets in, outcomes and waiters to wake out.
///
/// A ticket is taken before waiting, so a cancellation that arrives before the waiter is queued
/// is remembered (`acquire` then answers `.cancelled`) instead of being lost.
struct PermitQueue<Waiter> {
    enum Acquire: Equatable { case granted, wait, cancelled }

    let limit: Int
    private(set) var inUse = 0
    private(set) var waiting: [(ticket: UInt64, waiter: Waiter)] = []
    private var nextTicket: UInt64 = 0
    /// Tickets taken but not yet presented to `acquire`.
    private var issued: Set<UInt64> = []
    /// Tickets cancelled before they were presented.
    private var cancelledEarly: Set<UInt64> = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    mutating func makeTicket() -> UInt64 {
        nextTicket += 1
        issued.insert(nextTicket)
        return nextTicket
    }

    /// A permit at once when one is free and nobody waits (first come, first served); else the
    /// waiter queues.
    mutating func acquire(ticket: UInt64, waiter: Waiter) -> Acquire {
        issued.remove(ticket)
        if cancelledEarly.remove(ticket) != nil { return .cancelled }
        if inUse < limit && waiting.isEmpty {
            inUse += 1
            return .granted
        }
        waiting.append((ticket: ticket, waiter: waiter))
        return .wait
    }

    /// The waiter to wake with a cancellation, if `ticket` was still waiting.
    mutating func cancel(ticket: UInt64) -> Waiter? {
        if let index = waiting.firstIndex(where: { $0.ticket == ticket }) {
            return waiting.remove(at: index).waiter
        }
        if issued.contains(ticket) { cancelledEarly.insert(ticket) }
        return nil
    }

    /// A permit comes back: handed straight to the first waiter (returned, to be woken), or freed.
    mutating func release() -> Waiter? {
        if !waiting.isEmpty { return waiting.removeFirst().waiter }
        inUse = max(0, inUse - 1)
        return nil
    }
}
