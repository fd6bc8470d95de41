import NIOCore
import NIOPosix
import PostgresNIO
@testable import SteadfastPersistence
import SteadfastConcurrency
import SteadfastTestSupport
import Testing

/// The engine's lease desk, where callers leave their loans for a connection and lessors pick
/// them up: first come first served, a lessor hired per queued loan up to the limit, an idle
/// lessor handed a loan at once, and closing ends idle lessors and fails what waits. (The
/// engine's tests run it against a live server: `PostgresEngineLeaseTests`.)
@Suite(.timeLimit(.minutes(1))) struct LeaseDeskTests {
    typealias ConnectionLoan = Loan<PostgresConnection>
    struct Closed: Error {}

    @Test func queuedLoansHireLessorsUpToTheLimitAndAreServedInOrder() async {
        let desk = LeaseDesk(maximumLessors: 2)
        let loans = (0..<4).map { _ in ConnectionLoan() }
        var hires = 0
        for loan in loans {
            switch desk.leave(loan) {
            case .queued(let hire): if hire { hires += 1 }
            case .taken, .closed: Issue.record("no lessor was idle and the desk is open")
            }
        }
        #expect(hires == 2, "one lessor per queued loan, up to the pool's size")
        #expect(desk.waiting.loans == 4)
        // A lessor with a connection takes the first; lessors without one the rest, in order.
        #expect(desk.takeQueued() === loans[0])
        for loan in loans.dropFirst() {
            let next = await desk.nextLoan()
            #expect(next === loan)
        }
        #expect(desk.takeQueued() == nil)
    }

    @Test func anIdleLessorIsHandedALoanAtOnce() async throws {
        let desk = LeaseDesk(maximumLessors: 1)
        let loan = ConnectionLoan()
        try await withThrowingTaskGroup(of: ConnectionLoan?.self) { group in
            group.addTask { await desk.nextLoan() }
            try await waitUntil("the lessor idle at the desk") { desk.waiting.lessors == 1 }
            guard case .taken = desk.leave(loan) else {
                Issue.record("an idle lessor was not handed the loan")
                return
            }
            #expect(desk.waiting == (0, 0))
            let taken = try await group.next()
            #expect(taken.flatMap { $0 } === loan)
        }
    }

    @Test func closingEndsIdleLessorsFailsQueuedLoansAndRefusesNewOnes() async throws {
        let desk = LeaseDesk(maximumLessors: 1)
        let queued = ConnectionLoan()
        let outcome = LockedBox<(any Error)?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { _ = try await queued.borrow { _ = desk.leave(queued) } } catch { outcome.with { $0 = error } }
            }
            try await waitUntil("the loan queued") { desk.waiting.loans == 1 }
            desk.close(failing: Closed())
            try await group.waitForAll()
        }
        #expect(outcome.value is Closed)
        // A lessor asking after the close ends at once, and a new loan is refused.
        let next = await desk.nextLoan()
        #expect(next == nil)
        guard case .closed = desk.leave(ConnectionLoan()) else {
            Issue.record("a closed desk took a loan")
            return
        }
    }

    @Test func closingSendsWaitingLessorsHome() async throws {
        let desk = LeaseDesk(maximumLessors: 3)
        await withTaskGroup(of: ConnectionLoan?.self) { group in
            for _ in 0..<3 { group.addTask { await desk.nextLoan() } }
            try? await waitUntil("three lessors idle") { desk.waiting.lessors == 3 }
            desk.close(failing: Closed())
            for await next in group { #expect(next == nil) }
        }
    }

    // MARK: Event-loop affinity

    /// Leaves one loan per loop in `loops` (nil: a caller on no loop) and returns them in order.
    func queue(_ desk: LeaseDesk, from loops: [(any EventLoop)?]) -> [ConnectionLoan] {
        loops.map { loop in
            let loan = ConnectionLoan()
            _ = desk.leave(loan, from: loop)
            return loan
        }
    }

    /// Two distinct event loops (the callers' and the connections' loops: identities only) and a
    /// desk, for the length of `body`.
    func withTwoLoops(_ body: (_ a: any EventLoop, _ b: any EventLoop, LeaseDesk) -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        body(group.next(), group.next(), LeaseDesk(maximumLessors: 4))
        try await group.shutdownGracefully()
    }

    @Test func aConnectionServesTheFirstLoanFromItsOwnLoopFirst() async throws {
        try await withTwoLoops { a, b, desk in
            let loans = queue(desk, from: [a, nil, b, b, a])
            #expect(desk.takeQueued(for: b) === loans[2], "the first loan from b, past a's and a loop-less one")
            #expect(desk.takeQueued(for: b) === loans[3])
            #expect(desk.takeQueued(for: a) === loans[0])
            // No loan from b is left: a connection on b serves the first loan, whatever its loop.
            #expect(desk.takeQueued(for: b) === loans[1])
            // Without a loop (or from a lessor that gives none): first come, first served.
            #expect(desk.takeQueued() === loans[4])
            #expect(desk.takeQueued(for: a) == nil)
        }
    }

    @Test func aLoanIsPassedOverAtMostAFewTimes() async throws {
        try await withTwoLoops { a, b, desk in
            let first = queue(desk, from: [a])[0]
            let fromB = queue(desk, from: Array(repeating: b, count: LeaseDesk.maximumPassedOver + 2))
            // Connections on b serve b's loans ahead of a's first loan, up to the limit...
            for loan in fromB.prefix(LeaseDesk.maximumPassedOver) { #expect(desk.takeQueued(for: b) === loan) }
            // ...then the loan passed over that often is served next, by a connection on b too.
            #expect(desk.takeQueued(for: b) === first)
            #expect(desk.takeQueued(for: b) === fromB[LeaseDesk.maximumPassedOver])
        }
    }

    @Test func aConnectionLooksOnlyAtTheFirstFewLoansForItsLoop() async throws {
        try await withTwoLoops { a, b, desk in
            let loans = queue(desk, from: Array(repeating: a, count: LeaseDesk.affinityWindow) + [b])
            #expect(desk.takeQueued(for: b) === loans[0], "b's loan is beyond the window: the first loan is served")
            #expect(desk.takeQueued(for: b) === loans.last, "now within it")
        }
    }
}
