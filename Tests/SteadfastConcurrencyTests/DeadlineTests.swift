import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// `withDeadline`: at the limit the operation is cancelled, and the call returns only once the
/// operation has ended. The limits run on a `VirtualClock` (a sleep jumps its time, taking no
/// real time), so a 30 s deadline passes at once; answers in time use a limit of an hour.
@Suite(.timeLimit(.minutes(1))) struct DeadlineTests {
    struct Failed: Error {}

    /// Work that never ends unless cancelled (a wait on an event nobody fires).
    static func stuck() async -> Int {
        await OneShotEvent().wait()
        return -1
    }

    /// Opens once; waiting ignores task cancellation (as work that does not check would).
    final class Latch: Sendable {
        private let event = OneShotEvent()
        func open() { event.fire() }
        func wait() async { await withCheckedContinuation { continuation in event.observe { continuation.resume() } } }
    }

    @Test func anAnswerInTimeIsReturnedAsIs() async throws {
        for value in 0..<200 {
            #expect(try await withDeadline(.seconds(3600)) { value * 2 } == value * 2)
        }
        await #expect(throws: Failed.self) { try await withDeadline(.seconds(3600)) { () async throws -> Int in throw Failed() } }
    }

    @Test func stuckWorkIsCancelledAtTheLimitAndHasEndedWhenTheCallerHears() async throws {
        let clock = VirtualClock()
        let ended = LockedBox(false)
        await #expect {
            _ = try await withDeadline(.seconds(30), clock: clock) { () async throws -> Int in
                _ = await Self.stuck()
                ended.with { $0 = true }
                throw Failed()
            }
        } throws: { error in
            guard let expired = error as? DeadlineExceeded else { return false }
            // The limit reads in the one duration grammar, as configured ("30s").
            return expired.limit == .seconds(30) && expired.underlying is Failed && "\(expired)" == "no answer within 30s"
        }
        // Ended before the caller heard, not merely cancelled: nothing is left running.
        #expect(ended.value)
        #expect(clock.now.offset >= .seconds(30))
    }

    /// Work that ignores its cancellation for a while holds the caller until it ends: the call
    /// does not return at the limit and leave it running. A value it still produces is not used.
    @Test func workIgnoringCancellationIsWaitedForAndALateValueIsNotUsed() async throws {
        let latch = Latch()
        let cancelled = LockedBox(false)
        let returned = LockedBox(false)
        let caller = Task {
            let value = try await withDeadline(.seconds(1), clock: VirtualClock()) {
                await withTaskCancellationHandler {
                    await latch.wait()
                    return 42
                } onCancel: {
                    cancelled.with { $0 = true }
                }
            }
            returned.with { $0 = true }
            return value
        }
        #expect(await eventually(timeout: .seconds(20), interval: .milliseconds(5)) { cancelled.value })
        for _ in 0..<100 { await Task.yield() }
        #expect(!returned.value, "withDeadline returned while its operation was still running")
        latch.open()
        await #expect {
            _ = try await caller.value
        } throws: { error in
            guard let expired = error as? DeadlineExceeded else { return false }
            return expired.limit == .seconds(1) && expired.underlying == nil
        }
        #expect(returned.value == false)  // it threw instead
    }

    /// Half the calls' work answers at once, half sleeps for an hour: the sleepers are cancelled
    /// at the limit; the others, which may lose the race with the virtual clock's timer, either
    /// answer or expire, never hang.
    @Test func manyConcurrentDeadlinesEachEndTheirOwnWork() async throws {
        let clock = VirtualClock()
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<100 {
                group.addTask {
                    do {
                        _ = try await withDeadline(.seconds(2), clock: clock) {
                            if index.isMultiple(of: 2) { try await Task.sleep(for: .seconds(3600)) }
                            return index
                        }
                        return true
                    } catch let error as DeadlineExceeded {
                        // A sleeper ended by its cancellation; an instant answer came too late.
                        #expect(index.isMultiple(of: 2) ? error.underlying is CancellationError : error.underlying == nil)
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.count == 100)
        #expect(outcomes.filter { $0 }.count <= 50)
    }

    /// A cancelled caller cancels the work, waits for it and gets its outcome (not a deadline).
    @Test func aCancelledCallerCancelsTheWorkAndGetsItsOutcome() async throws {
        let caller = Task {
            try await withDeadline(.seconds(3600)) {
                try await Task.sleep(for: .seconds(3600))
                return 1
            }
        }
        caller.cancel()
        await #expect(throws: CancellationError.self) { _ = try await caller.value }
    }
}
