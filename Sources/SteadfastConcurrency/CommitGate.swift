import Synchronization

/// The commit point of one piece of work — the auto-commit statement, or COMMIT — decided once
/// between "sent" and "abandoned", so work abandoned by its deadline can be reported as certainly
/// not committed and never commits afterwards, however late its task gets to the commit point.
///
/// The database engine passes the gate just before sending the commit point, and closes it when
/// its deadline helper reports the work abandoned; whichever comes first decides.
public final class CommitGate: Sendable {
    private enum State { case open, passed, closed }
    private let state = Mutex(State.open)

    public init() {}

    /// Just before the commit point is sent: `false` if the work was abandoned (do not send).
    public func pass() -> Bool {
        state.withLock { state in
            if state == .closed { return false }
            state = .passed
            return true
        }
    }

    /// On abandonment: `true` if the commit point was already sent (the work may have
    /// committed); otherwise the gate closes and it never will be.
    public func close() -> Bool {
        state.withLock { state in
            if state == .passed { return true }
            state = .closed
            return false
        }
    }

    /// Whether the commit point was sent.
    public var passed: Bool { state.withLock { $0 == .passed } }
}
