import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct OneShotEventTests {
    @Test func firingWakesEveryWaiterAndRunsEveryObserverOnce() async throws {
        let event = OneShotEvent()
        let observed = LockedBox(0)
        event.observe { observed.with { $0 += 1 } }
        let removed = event.observe { observed.with { $0 += 100 } }
        event.removeObserver(try #require(removed))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await event.wait() } }
            event.fire()
            event.fire()
        }
        #expect(observed.with { $0 } == 1)
        // After firing: an observer runs at once (and is not kept), a wait returns at once.
        #expect(event.observe { observed.with { $0 += 1 } } == nil)
        #expect(observed.with { $0 } == 2)
        await event.wait()
    }

    @Test func aCancelledWaitReturns() async throws {
        let event = OneShotEvent()
        let waiter = Task { await event.wait() }
        waiter.cancel()
        await waiter.value
    }
}

@Suite(.timeLimit(.minutes(1))) struct AsyncLockTests {
    /// 200 tasks each read, yield and write a counter under the lock: no update is lost, and
    /// no two bodies ever overlap.
    @Test func bodiesRunOneAtATime() async throws {
        let lock = AsyncLock()
        let state = LockedBox((counter: 0, inside: 0, mostInside: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    await lock.withLock {
                        let seen = state.with { state -> Int in
                            state.inside += 1
                            state.mostInside = max(state.mostInside, state.inside)
                            return state.counter
                        }
                        await Task.yield()
                        state.with { state in
                            state.counter = seen + 1
                            state.inside -= 1
                        }
                    }
                }
            }
        }
        let final = state.with { $0 }
        #expect(final.counter == 200)
        #expect(final.mostInside == 1)
    }

    /// Waiters get the lock in the order they asked for it, each once the one before unlocked.
    @Test func waitersGetTheLockInTheOrderTheyAsked() async throws {
        let lock = AsyncLock()
        await lock.lock()
        let order = LockedBox<[Int]>([])
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask { await lock.withLock { order.with { $0.append(index) } } }
                await yieldUntil { lock.waiting == index + 1 }
            }
            lock.unlock()
        }
        #expect(order.value == Array(0..<8))
        #expect(lock.waiting == 0)
        #expect(await lock.withLock { 1 } == 1)  // and it is free again
    }

    @Test func aThrowingBodyReleasesTheLock() async throws {
        struct Failed: Error {}
        let lock = AsyncLock()
        await #expect(throws: Failed.self) { try await lock.withLock { throw Failed() } }
        #expect(await lock.withLock { 7 } == 7)
    }
}

/// A value lent to a waiting task and given back; the borrower's wait ends reliably on
/// cancellation, and a value lent after that is refused (so the lender returns it).
@Suite(.timeLimit(.minutes(1))) struct LoanTests {
    struct Refused: Error {}

    @Test func aValueIsLentToTheBorrowerAndGivenBack() async throws {
        let loan = Loan<Int>()
        let lender = LockedBox<Task<Void, Never>?>(nil)
        let value = try await loan.borrow {
            lender.with { $0 = Task { if loan.lend(7) { await loan.waitUntilGivenBack() } } }
        }
        #expect(value == 7)
        loan.giveBack()
        await lender.value?.value  // ends only once the value is back
    }

    @Test func theLenderWaitsUntilTheValueIsGivenBack() async throws {
        let loan = Loan<Int>()
        let back = LockedBox(false)
        let lender = LockedBox<Task<Void, Never>?>(nil)
        _ = try await loan.borrow {
            lender.with {
                $0 = Task {
                    guard loan.lend(1) else { return }
                    await loan.waitUntilGivenBack()
                    back.with { $0 = true }
                }
            }
        }
        for _ in 0..<50 { await Task.yield() }
        #expect(!back.value, "the lender went on before the borrower gave the value back")
        loan.giveBack()
        await lender.value?.value
        #expect(back.value)
    }

    /// The lender hears whether the value came back intact (the engine lends a connection on
    /// to the next caller only then), whether it asks after the value is back or before.
    @Test(arguments: [true, false]) func theLenderHearsWhetherTheValueCameBackIntact(intact: Bool) async throws {
        for askAfterItIsBack in [true, false] {
            let loan = Loan<Int>()
            let back = OneShotEvent()
            let lender = LockedBox<Task<Bool?, Never>?>(nil)
            _ = try await loan.borrow {
                lender.with {
                    $0 = Task {
                        guard loan.lend(1) else { return nil }
                        if askAfterItIsBack { await back.wait() }
                        return await loan.waitUntilGivenBack()
                    }
                }
            }
            if !askAfterItIsBack { for _ in 0..<50 { await Task.yield() } }
            loan.giveBack(intact: intact)
            back.fire()
            let heard = await lender.value?.value
            #expect(heard == intact, "asked \(askAfterItIsBack ? "after" : "before") it was back")
        }
    }

    /// The borrower is cancelled while nobody lends: its wait ends at once, and a value lent
    /// afterwards is refused, so the lender keeps it (gives it back where it came from).
    @Test func aCancelledBorrowerStopsWaitingAndALateValueIsRefused() async throws {
        let loan = Loan<Int>()
        let submitted = LockedBox(false)
        let borrower = Task { try await loan.borrow { submitted.with { $0 = true } } }
        #expect(await eventually { submitted.value })
        borrower.cancel()
        await #expect(throws: CancellationError.self) { _ = try await borrower.value }
        #expect(loan.isAbandoned)
        #expect(loan.lend(3) == false)
    }

    @Test func aBorrowerCancelledBeforeItWaitsNeverSubmits() async throws {
        let loan = Loan<Int>()
        let submitted = LockedBox(false)
        let never = OneShotEvent()
        let borrower = Task {
            await never.wait()  // returns once the task is cancelled
            return try await loan.borrow { submitted.with { $0 = true } }
        }
        borrower.cancel()
        await #expect(throws: CancellationError.self) { _ = try await borrower.value }
        #expect(!submitted.value)
    }

    @Test func failingEndsTheWaitWithTheErrorButLeavesALentValueAlone() async throws {
        let waiting = Loan<Int>()
        let failed = Task { try await waiting.borrow {} }
        await Task.yield()
        #expect(waiting.fail(Refused()) == nil)
        await #expect(throws: Refused.self) { _ = try await failed.value }

        let early = Loan<Int>()
        early.fail(Refused())  // before the borrower waits: it fails at once, without submitting
        await #expect(throws: Refused.self) { _ = try await early.borrow { Issue.record("submitted") } }

        let lent = Loan<Int>()
        let value = try await lent.borrow { _ = lent.lend(9) }
        #expect(lent.fail(Refused()) == 9)  // still the borrower's: the caller may close it
        lent.giveBack()
        #expect(lent.fail(Refused()) == nil)
    }
}
