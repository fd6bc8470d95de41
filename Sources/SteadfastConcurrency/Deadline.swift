import SteadfastDomain
import Synchronization

/// Why ``withDeadline(_:on:abandonWhen:_:)`` stopped its operation.
public enum DeadlineExpiry: Sendable, Equatable {
    /// The time limit passed.
    case timeLimit
    /// The event the operation was tied to (`abandonWhen`) fired: what it runs on was given up on.
    case abandoned
    /// The calling task was cancelled.
    case cancelled
}

/// The error of an operation stopped by its deadline (a cancelled caller gets `CancellationError`).
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public let expiry: DeadlineExpiry
    public let limit: Duration

    public var description: String {
        switch expiry {
        case .timeLimit: "no answer within \(DurationText.format(limit))"
        case .abandoned: "given up on before it finished"
        case .cancelled: "cancelled"
        }
    }
}

/// Runs `operation` in a child task and stops it when `limit` has passed on `clock`, when
/// `abandonWhen` fires, or when the caller is cancelled; then throws ``DeadlineExceeded``
/// (`CancellationError` for a cancelled caller). The one deadline helper of the code base.
///
/// Stopping is two things, because cancellation alone does not stop everything: the child task
/// is cancelled (which ends a wait for a pooled connection, a sleep, an HTTP request), and every
/// action the operation registered with ``AbortSignal/whileRunning(onAbort:_:)`` runs (which
/// ends what ignores cancellation: PostgresNIO's `query` waits for the server whatever happens
/// to its task, so the database engine registers "close this connection" while it holds one).
///
/// It is structured: it returns only when the operation's task has ended, so nothing it started
/// outlives it. That is why the abort actions matter: without them a hung server would hold the
/// caller as long as the server held the statement.
///
/// An operation that still returns a value after its deadline expired is reported as expired
/// all the same (the caller has been told nothing else, and a later answer may not be used).
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    on clock: any Clock<Duration> = ContinuousClock(),
    abandonWhen event: OneShotEvent? = nil,
    _ operation: @escaping @Sendable (AbortSignal) async throws -> T
) async throws -> T {
    let signal = AbortSignal()
    let observer = event?.observe { signal.expire(.abandoned) }
    defer { if let observer { event?.removeObserver(observer) } }

    return try await withThrowingTaskGroup(of: DeadlineRace<T>.self) { group in
        group.addTask { .returned(try await operation(signal)) }
        group.addTask {
            // Ends early (and without throwing) when the group is cancelled: by the caller's
            // cancellation, or because the operation finished first and nobody reads this.
            try? await clock.sleep(for: limit)
            return .timerEnded
        }
        while true {
            let finish: DeadlineRace<T>?
            do {
                finish = try await group.next()
            } catch {
                group.cancelAll()
                throw signal.expiry.map { signal.error(for: $0, limit: limit) } ?? error
            }
            switch finish {
            case .returned(let value):
                group.cancelAll()
                if let expiry = signal.expiry { throw signal.error(for: expiry, limit: limit) }
                return value
            case .timerEnded:
                signal.expire(Task.isCancelled ? .cancelled : .timeLimit)
                group.cancelAll()
                // Loop: wait for the operation, which its abort actions and cancellation end.
            case nil:
                // Unreachable: the operation's task answers before the group runs dry.
                throw signal.error(for: signal.expiry ?? .timeLimit, limit: limit)
            }
        }
    }
}

/// Which of the two children of ``withDeadline(_:on:abandonWhen:_:)`` ended first.
private enum DeadlineRace<T: Sendable>: Sendable {
    case returned(T)
    case timerEnded
}

/// What an operation under ``withDeadline(_:on:abandonWhen:_:)`` uses to be stoppable beyond
/// task cancellation, and to learn whether it was stopped.
public final class AbortSignal: Sendable {
    private struct State {
        var expiry: DeadlineExpiry?
        var lastID = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the operation was stopped, once it has been.
    public var expiry: DeadlineExpiry? { state.withLock { $0.expiry } }

    /// Runs `body` with `action` registered: the deadline calls it (once, from any thread) if it
    /// expires while `body` runs. If the deadline has already expired, `body` does not run:
    /// `action` runs and this throws.
    public func whileRunning<R>(onAbort action: @escaping @Sendable () -> Void, _ body: () async throws -> R) async throws -> R {
        let id = state.withLock { state -> Int? in
            guard state.expiry == nil else { return nil }
            state.lastID += 1
            state.actions[state.lastID] = action
            return state.lastID
        }
        guard let id else {
            action()
            throw error(for: expiry ?? .timeLimit, limit: .zero)
        }
        defer { _ = state.withLock { $0.actions.removeValue(forKey: id) } }
        return try await body()
    }

    /// Marks the operation stopped and runs the registered actions; the first reason wins.
    func expire(_ expiry: DeadlineExpiry) {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard state.expiry == nil else { return [] }
            state.expiry = expiry
            defer { state.actions = [:] }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    func error(for expiry: DeadlineExpiry, limit: Duration) -> any Error {
        expiry == .cancelled ? CancellationError() : DeadlineExceeded(expiry: expiry, limit: limit)
    }
}
