import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// Yields until `condition` holds (the suite's time limit ends a wait that never would): a test
/// waits for other tasks to reach a point without sleeping.
func yieldUntil(_ condition: () -> Bool) async {
    while !condition() { await Task.yield() }
}

/// `AsyncSemaphore`: at most `permits` holders; waiters served first come first served; a
/// release wakes exactly one; a cancelled waiter leaves the queue holding nothing. No real
/// waits: tests yield until the other tasks have reached the queue (`waiting`).
@Suite(.timeLimit(.minutes(1))) struct AsyncSemaphoreTests {
    struct Failed: Error {}

    @Test func freePermitsAreTakenAtOnceAndComeBack() async throws {
        let semaphore = AsyncSemaphore(permits: 2)
        try await semaphore.acquire()
        try await semaphore.acquire()
        #expect(semaphore.inUse == 2 && semaphore.waiting == 0)
        semaphore.release()
        #expect(semaphore.inUse == 1)
        semaphore.release()
        #expect(semaphore.inUse == 0)
        // At least one permit, whatever is asked.
        #expect(AsyncSemaphore(permits: 0).permits == 1)
    }

    @Test func waitersAreServedInTheOrderTheyCame() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let order = LockedBox<[Int]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await semaphore.withPermit { order.with { $0.append(index) } }
                }
                await yieldUntil { semaphore.waiting == index + 1 }
            }
            semaphore.release()
            try await group.waitForAll()
        }
        #expect(order.value == Array(0..<8))
        #expect(semaphore.inUse == 0 && semaphore.waiting == 0)
    }

    /// A newcomer finds the permit handed to the first waiter, not free: it queues behind.
    @Test func aReleaseWakesExactlyOneWaiterAndANewcomerDoesNotOvertake() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let entered = LockedBox<[Int]>([])
        let letGo = OneShotEvent()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                group.addTask {
                    try await semaphore.withPermit {
                        entered.with { $0.append(index) }
                        await letGo.wait()
                    }
                }
                await yieldUntil { semaphore.waiting == index + 1 }
            }
            semaphore.release()
            await yieldUntil { !entered.value.isEmpty }
            for _ in 0..<100 { await Task.yield() }
            #expect(entered.value == [0], "one release let in \(entered.value)")
            #expect(semaphore.inUse == 1 && semaphore.waiting == 2)
            group.addTask { try await semaphore.withPermit { entered.with { $0.append(99) } } }
            await yieldUntil { semaphore.waiting == 3 }
            letGo.fire()
            try await group.waitForAll()
        }
        #expect(entered.value == [0, 1, 2, 99])
        #expect(semaphore.inUse == 0)
    }

    /// A waiter cancelled in the queue leaves it with `CancellationError` and holds nothing: the
    /// next release goes to the waiter behind it, and no permit is lost.
    @Test func aCancelledWaiterLeavesTheQueueWithoutTakingAPermit() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let ran = LockedBox<[String]>([])
        let cancelIt = OneShotEvent()
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask {
                await withTaskGroup(of: Void.self) { first in
                    first.addTask {
                        await #expect(throws: CancellationError.self) {
                            try await semaphore.withPermit { ran.with { $0.append("cancelled") } }
                        }
                    }
                    await cancelIt.wait()
                    first.cancelAll()
                }
            }
            await yieldUntil { semaphore.waiting == 1 }
            outer.addTask { try? await semaphore.withPermit { ran.with { $0.append("behind") } } }
            await yieldUntil { semaphore.waiting == 2 }
            cancelIt.fire()
            await yieldUntil { semaphore.waiting == 1 }  // the cancelled one has left
            #expect(semaphore.inUse == 1)
            semaphore.release()
        }
        #expect(ran.value == ["behind"])
        #expect(semaphore.inUse == 0 && semaphore.waiting == 0)
        // The one permit is still there: taken at once.
        try await semaphore.acquire()
        #expect(semaphore.inUse == 1)
    }

    /// Cancellation ends waits only: a cancelled task that must wait throws at once without
    /// queueing, one that finds a permit free takes it.
    @Test func aTaskCancelledBeforeItAsksWaitsForNothing() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                withUnsafeCurrentTask { $0?.cancel() }
                // Free permit: taken even though the task is cancelled.
                try? await semaphore.acquire()
                #expect(semaphore.inUse == 1)
                // None free: no wait, no queue.
                await #expect(throws: CancellationError.self) { try await semaphore.acquire() }
                #expect(semaphore.waiting == 0 && semaphore.inUse == 1)
                semaphore.release()
            }
        }
        #expect(semaphore.inUse == 0)
    }

    @Test func aThrowingBodyGivesThePermitBack() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        await #expect(throws: Failed.self) { try await semaphore.withPermit { throw Failed() } }
        #expect(semaphore.inUse == 0)
        #expect(try await semaphore.withPermit { 7 } == 7)
    }

    /// 300 users in a task group, every third of them cancelled at some point of its wait: never
    /// more than 3 bodies at once, every user either ran or got `CancellationError`, and at the
    /// end every permit is free and nobody waits.
    @Test func manyConcurrentUsersNeverExceedThePermits() async throws {
        let semaphore = AsyncSemaphore(permits: 3)
        let state = LockedBox((inside: 0, mostInside: 0, ran: 0, cancelled: 0))
        let use: @Sendable () async -> Void = {
            do {
                try await semaphore.withPermit {
                    state.with { state in
                        state.inside += 1
                        state.mostInside = max(state.mostInside, state.inside)
                    }
                    for _ in 0..<3 { await Task.yield() }
                    state.with { state in
                        state.inside -= 1
                        state.ran += 1
                    }
                }
            } catch {
                #expect(error is CancellationError)
                state.with { $0.cancelled += 1 }
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                if index.isMultiple(of: 3) {
                    group.addTask {
                        await withTaskGroup(of: Void.self) { one in
                            one.addTask { await use() }
                            for _ in 0..<(index % 7) { await Task.yield() }
                            one.cancelAll()
                        }
                    }
                } else {
                    group.addTask { await use() }
                }
            }
        }
        let final = state.value
        #expect(final.mostInside <= 3 && final.mostInside >= 1)
        #expect(final.ran + final.cancelled == 300 && final.ran >= 200)
        #expect(semaphore.inUse == 0 && semaphore.waiting == 0)
    }
}
