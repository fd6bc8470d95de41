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

    @Test func aThrowingBodyReleasesTheLock() async throws {
        struct Failed: Error {}
        let lock = AsyncLock()
        await #expect(throws: Failed.self) { try await lock.withLock { throw Failed() } }
        #expect(await lock.withLock { 7 } == 7)
    }
}

/// The commit point is decided once: work abandoned before it never sends it, and work that
/// sent it is reported as perhaps committed.
@Suite struct CommitGateTests {
    @Test func abandonedBeforeTheCommitPointNeverCommits() {
        let gate = CommitGate()
        #expect(gate.close() == false)  // reported: certainly not committed
        #expect(gate.pass() == false)   // so the commit point is never sent
        #expect(!gate.passed)
    }

    @Test func abandonedAfterTheCommitPointMayHaveCommitted() {
        let gate = CommitGate()
        #expect(gate.pass())
        #expect(gate.close() == true)
        #expect(gate.passed)
    }
}
