import Synchronization

/// One value lent by a lender task to a borrower task that waits for it, and given back.
///
/// What it is for: the borrower's wait ends reliably when the borrower is cancelled or the loan
/// is failed, whatever the lender is doing. The lender keeps waiting for its value in its own
/// task; if the borrower has stopped waiting by the time the value comes, ``lend(_:)`` says so
/// and the lender gives the value straight back to where it came from. The PostgreSQL engine
/// uses it for connection leases (see `PostgresEngine`): the pool's own lease can lose a
/// cancellation, so callers never wait on the pool directly.
///
/// Borrower: ``borrow(submit:)``, then ``giveBack(intact:)`` when done with the value, saying
/// whether it may be lent again as it is. Lender: ``lend(_:)`` and, if that succeeded,
/// ``waitUntilGivenBack()``; or ``fail(_:)``.
public final class Loan<Value: Sendable>: Sendable {
    private enum State {
        /// The borrower has not started waiting yet.
        case new
        /// Failed (or the borrower was cancelled) before the borrower started waiting.
        case failedEarly(any Error)
        case waiting(CheckedContinuation<Value, any Error>)
        /// The borrower stopped waiting without a value: a value lent now is refused.
        case abandoned
        case lent(Value)
        case lentAndAwaited(Value, CheckedContinuation<Bool, Never>)
        case givenBack(intact: Bool)
    }

    private let state = Mutex(State.new)

    public init() {}

    // MARK: Borrower

    /// Waits for the value; `submit` runs once the wait is set up (it tells the lender). Throws
    /// `CancellationError` as soon as the borrower's task is cancelled, or the error of
    /// ``fail(_:)``. Call once.
    public func borrow(submit: () -> Void) async throws -> Value {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let early = state.withLock { state -> (any Error)? in
                    switch state {
                    case .new:
                        state = .waiting(continuation)
                        return nil
                    case .failedEarly(let error):
                        state = .abandoned
                        return error
                    default:
                        preconditionFailure("Loan.borrow called twice")
                    }
                }
                if let early {
                    continuation.resume(throwing: early)
                } else {
                    submit()
                }
            }
        } onCancel: {
            fail(CancellationError())
        }
    }

    /// The borrower is done with the value (call once it was borrowed); `intact`: whether the
    /// lender may lend it again as it is (the engine's connection after work that succeeded).
    public func giveBack(intact: Bool = true) {
        let lender = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            switch state {
            case .lentAndAwaited(_, let lender):
                state = .givenBack(intact: intact)
                return lender
            case .lent:
                state = .givenBack(intact: intact)
                return nil
            default:
                return nil
            }
        }
        lender?.resume(returning: intact)
    }

    // MARK: Lender, or anyone

    /// Ends the borrower's wait with `error`, unless a value was lent already. Returns the lent
    /// value if it was (and is not given back yet), so the caller can act on it.
    @discardableResult
    public func fail(_ error: any Error) -> Value? {
        let (borrower, lentValue) = state.withLock { state -> (CheckedContinuation<Value, any Error>?, Value?) in
            switch state {
            case .new:
                state = .failedEarly(error)
                return (nil, nil)
            case .waiting(let borrower):
                state = .abandoned
                return (borrower, nil)
            case .lent(let value), .lentAndAwaited(let value, _):
                return (nil, value)
            case .failedEarly, .abandoned, .givenBack:
                return (nil, nil)
            }
        }
        borrower?.resume(throwing: error)
        return lentValue
    }

    /// Whether the borrower has stopped waiting without a value (a lender need not fetch one).
    public var isAbandoned: Bool {
        state.withLock { state in
            switch state {
            case .failedEarly, .abandoned: true
            default: false
            }
        }
    }

    /// Hands `value` to the waiting borrower. `false` if the borrower stopped waiting: the value
    /// was not taken, and the lender keeps it.
    public func lend(_ value: Value) -> Bool {
        let borrower = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard case .waiting(let borrower) = state else { return nil }
            state = .lent(value)
            return borrower
        }
        borrower?.resume(returning: value)
        return borrower != nil
    }

    /// After a successful ``lend(_:)``: waits until the borrower gives the value back, and
    /// returns whether it came back intact. Not ended by cancellation: the value is the
    /// borrower's until then.
    @discardableResult
    public func waitUntilGivenBack() async -> Bool {
        await withCheckedContinuation { (lender: CheckedContinuation<Bool, Never>) in
            let givenBack = state.withLock { state -> Bool? in
                switch state {
                case .lent(let value):
                    state = .lentAndAwaited(value, lender)
                    return nil
                case .givenBack(let intact):
                    return intact
                default:
                    return false
                }
            }
            if let givenBack { lender.resume(returning: givenBack) }
        }
    }
}
