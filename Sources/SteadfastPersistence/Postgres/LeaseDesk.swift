import NIOCore
import PostgresNIO
import SteadfastConcurrency
import Synchronization

/// Where an engine's callers leave their ``Loan``s for a connection and its lessors pick them
/// up. A lessor is a task of the engine's `run()` that leases connections from the pool for
/// callers (see `PostgresEngine.withConnection` for why callers never lease themselves).
///
/// Why a desk, not a task per loan: each statement used to hand its loan to `run()` through a
/// stream, which started a task for it; that was two task hand-overs and a task creation per
/// statement (docs/billing.md). Now a loan goes straight to a lessor waiting at the desk, or
/// waits in a queue that a lessor holding a connection serves next, **on the same connection**:
/// given back intact, a connection goes to the next queued caller without a round trip through
/// the pool (which would hand it to the next waiter anyway).
///
/// - ``leave(_:)`` (a caller): an idle lessor is woken with the loan; else the loan is queued,
///   and a new lessor is hired (``Placement/queued(hire:)``) while there are fewer than
///   `maximumLessors` (the pool's size: more would only wait in the pool's own queue).
/// - ``nextLoan()`` (a lessor without a connection): the first queued loan, or waits idle for
///   one; nil once the desk is closed (the lessor ends).
/// - ``takeQueued(for:)`` (a lessor whose connection came back intact): a queued loan, if any,
///   for that connection — preferably one whose caller runs on the connection's event loop.
/// - ``close(failing:)`` (the engine retires, or its `run()` ends): idle lessors end, queued
///   loans fail, and every later ``leave(_:)`` says ``Placement/closed``.
final class LeaseDesk: Sendable {
    typealias ConnectionLoan = Loan<PostgresConnection>

    /// A loan waiting for a lessor, with the event loop its caller runs on, if any.
    private struct Queued {
        let loan: ConnectionLoan
        let loop: (any EventLoop)?
        /// How many later loans were served before this one (``takeQueued(for:)``).
        var passedOver = 0
    }

    private struct State {
        /// Loans waiting for a lessor, first come first served (bar ``takeQueued(for:)``).
        var queued = CircularBuffer<Queued>()
        /// Lessors waiting for a loan.
        var idle: [CheckedContinuation<ConnectionLoan?, Never>] = []
        var lessors = 0
        var closed = false
    }

    enum Placement {
        /// An idle lessor has the loan.
        case taken
        /// The loan waits for a lessor; `hire`: start one more.
        case queued(hire: Bool)
        /// The desk is closed: fail the loan.
        case closed
    }

    let maximumLessors: Int
    private let state = Mutex(State())

    init(maximumLessors: Int) {
        self.maximumLessors = max(1, maximumLessors)
    }

    /// - Parameter loop: the event loop the caller runs on (a node's request runs on its HTTP
    ///   connection's loop), or nil.
    func leave(_ loan: ConnectionLoan, from loop: (any EventLoop)? = nil) -> Placement {
        let (placement, lessor) = state.withLock { state -> (Placement, CheckedContinuation<ConnectionLoan?, Never>?) in
            if state.closed { return (.closed, nil) }
            if !state.idle.isEmpty { return (.taken, state.idle.removeFirst()) }
            state.queued.append(Queued(loan: loan, loop: loop))
            guard state.lessors < maximumLessors else { return (.queued(hire: false), nil) }
            state.lessors += 1
            return (.queued(hire: true), nil)
        }
        lessor?.resume(returning: loan)
        return placement
    }

    func nextLoan() async -> ConnectionLoan? {
        await withCheckedContinuation { (lessor: CheckedContinuation<ConnectionLoan?, Never>) in
            let now = state.withLock { state -> ConnectionLoan?? in
                if !state.queued.isEmpty { return .some(state.queued.removeFirst().loan) }
                if state.closed { return .some(nil) }
                state.idle.append(lessor)
                return .none
            }
            if let now { lessor.resume(returning: now) }
        }
    }

    /// How many of the first queued loans ``takeQueued(for:)`` looks at for one from the
    /// connection's event loop.
    static let affinityWindow = 8
    /// How many later loans may be served before a queued loan; then it is served next,
    /// whatever its loop.
    static let maximumPassedOver = 4

    /// The queued loan a connection on `loop` serves next: among the first
    /// ``affinityWindow`` loans, the first whose caller runs on that loop — its statements and
    /// their answers then stay on one thread (`EventLoopExecutor`) — else the first loan. No
    /// loan is passed over more than ``maximumPassedOver`` times, so a caller on a loop with few
    /// connections still gets one. Nil when nothing is queued.
    func takeQueued(for loop: (any EventLoop)? = nil) -> ConnectionLoan? {
        state.withLock { state in
            guard let first = state.queued.first else { return nil }
            guard let loop, first.passedOver < Self.maximumPassedOver,
                  let index = state.queued.prefix(Self.affinityWindow).firstIndex(where: { $0.loop === loop })
            else {
                return state.queued.removeFirst().loan
            }
            var earlier = state.queued.startIndex
            while earlier != index {
                state.queued[earlier].passedOver += 1
                earlier = state.queued.index(after: earlier)
            }
            return state.queued.remove(at: index).loan
        }
    }

    /// How many lessors wait for a loan, and how many loans for a lessor (for tests).
    var waiting: (lessors: Int, loans: Int) { state.withLock { ($0.idle.count, $0.queued.count) } }

    func close(failing error: any Error) {
        let (idle, queued) = state.withLock { state -> ([CheckedContinuation<ConnectionLoan?, Never>], [ConnectionLoan]) in
            state.closed = true
            defer {
                state.idle = []
                state.queued = CircularBuffer()
            }
            return (state.idle, state.queued.map(\.loan))
        }
        for lessor in idle { lessor.resume(returning: nil) }
        for loan in queued { loan.fail(error) }
    }
}
