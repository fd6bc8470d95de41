import NIOCore
import PostgresNIO
import SteadfastConcurrency
import SteadfastDomain
import Synchronization

/// The time limit of one statement or transaction on a ``PostgresEngine``, carried out by a timer
/// on the engine's ``TimerQueue`` instead of a deadline task per statement. What the timer does
/// depends on where the work is, which the work tells it as it goes:
///
/// - **Waiting for a connection** (`.leasing`): the wait ends with ``timeoutError`` (certainly not
///   committed: nothing was sent). A connection lent at that moment is not used
///   (``start(_:)`` says no) and goes back to the pool as it came.
/// - **Running on a connection** (`.running`): the connection is closed, which ends the wait
///   for the server (PostgresNIO's `query` waits whatever happens to its task). The work then
///   fails with a connection error that says whether it may have committed; the engine reports
///   it as a `.timeout` (``report(_:)``). The connection goes back as not intact
///   (``isClosing``), so it is never lent on to another caller while it closes; the caller does
///   not wait for the close itself (a TLS close waits for the server's answer, up to 5 s).
/// - **Finished** (`.finished`): nothing; the work ended in time.
///
/// A transaction asks ``hasExpired`` before COMMIT and does not send it once the limit has
/// passed. Work that succeeded as the limit passed keeps its result: it did finish.
final class StatementBound: Sendable {
    enum State {
        case leasing
        case running(PostgresConnection)
        case finished
        /// The limit passed; `closing`: while the work ran, so its connection is being closed.
        case expired(closing: Bool)
    }

    /// The wait for a connection, which ``expire()`` fails.
    let loan = Loan<PostgresConnection>()
    let limit: Duration
    private let state = Mutex(State.leasing)

    init(limit: Duration) {
        self.limit = limit
    }

    /// What the work gets when the limit passes before anything was sent.
    var timeoutError: DatabaseError {
        DatabaseError(.timeout, message: "no answer from the database within \(DurationText.format(limit))", mayHaveCommitted: false)
    }

    /// The timer's action: the limit has passed.
    func expire() {
        let running = state.withLock { state -> PostgresConnection? in
            switch state {
            case .leasing:
                state = .expired(closing: false)
                return nil
            case .running(let connection):
                state = .expired(closing: true)
                return connection
            case .finished, .expired:
                return nil
            }
        }
        if let running {
            PostgresEngine.close(running)
        } else {
            // Ends a wait for a connection; a connection lent already stays with the borrower,
            // whose `start` then refuses it.
            loan.fail(timeoutError)
        }
    }

    /// The work has its connection and is about to send; `false` if the limit passed already
    /// (send nothing, give the connection back).
    func start(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard case .leasing = state else { return false }
            state = .running(connection)
            return true
        }
    }

    /// The work is done with its connection: a timer firing from now on does nothing.
    func finish() {
        state.withLock { state in
            if case .running = state { state = .finished }
        }
    }

    /// Whether the timer closed (is closing) the work's connection: it must not be lent on.
    var isClosing: Bool {
        state.withLock { state in
            if case .expired(closing: true) = state { return true }
            return false
        }
    }

    /// Whether the limit has passed (and the timer acted).
    var hasExpired: Bool {
        state.withLock { state in
            if case .expired = state { return true }
            return false
        }
    }

    /// What the work reports, given that it failed with `error`: once the limit has passed, a
    /// failure the timer caused (the connection it closed, the wait it ended, the COMMIT it
    /// stopped) is a `.timeout` that keeps whether the work may have committed. Anything else
    /// — a failure of the work's own, or any failure in time — is reported as it is.
    func report(_ error: any Error) -> any Error {
        guard hasExpired, let failure = error as? DatabaseError, failure.kind == .connectionFailure || failure.kind == .timeout else { return error }
        return DatabaseError(
            .timeout, message: "no answer from the database within \(DurationText.format(limit))", mayHaveCommitted: failure.mayHaveCommitted
        )
    }
}
