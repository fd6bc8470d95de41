import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// `withDeadline`: an answer in time passes through; at the deadline (on a ``VirtualClock``,
/// whose sleeps end at once, so "the deadline passed" takes no real time) the operation is
/// cancelled and its abort actions run, and `withDeadline` returns only once the operation's
/// task has ended. No test here depends on how fast the machine is.
@Suite(.timeLimit(.minutes(1))) struct DeadlineTests {
    /// Waits for `event` whatever happens to the task (as PostgresNIO's `query` does).
    static func waitIgnoringCancellation(_ event: OneShotEvent) async {
        await withCheckedContinuation { continuation in event.observe { continuation.resume() } }
    }

    @Test func anAnswerInTimeIsReturned() async throws {
        for value in 0..<200 {
            #expect(try await withDeadline(.seconds(60)) { _ in value * 2 } == value * 2)
        }
    }

    @Test func anErrorInTimeIsThrownUnchanged() async throws {
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await withDeadline(.seconds(60)) { _ -> Int in throw Refused() }
        }
    }

    /// Work that ignores cancellation ends only through its abort action; `withDeadline` waits
    /// for it (structured) and then reports the time limit.
    @Test func atTheDeadlineTheAbortActionEndsWorkThatIgnoresCancellation() async throws {
        let release = OneShotEvent()
        let aborts = LockedBox(0)
        let finished = LockedBox(false)
        await #expect {
            _ = try await withDeadline(.seconds(5), on: VirtualClock()) { signal in
                try await signal.whileRunning(onAbort: {
                    aborts.with { $0 += 1 }
                    release.fire()
                }) {
                    await Self.waitIgnoringCancellation(release)
                }
                finished.with { $0 = true }
                return 1
            }
        } throws: { error in
            (error as? DeadlineExceeded)?.expiry == .timeLimit
        }
        #expect(aborts.with { $0 } == 1)
        #expect(finished.with { $0 }, "withDeadline returned before the operation's task ended")
    }

    /// Work that honours cancellation needs no abort action: the deadline cancels it.
    @Test func atTheDeadlineWorkIsCancelled() async throws {
        let clock = VirtualClock()
        await #expect {
            _ = try await withDeadline(.seconds(5), on: clock) { _ in
                try await Task.sleep(for: .seconds(3600))
                return 1
            }
        } throws: { error in
            (error as? DeadlineExceeded)?.expiry == .timeLimit && "\(error)".contains("5s")
        }
        #expect(clock.now.offset >= .seconds(5))
    }

    /// A result that arrives after the deadline expired is not used.
    @Test func aValueReturnedAfterExpiryIsReportedAsExpired() async throws {
        await #expect {
            _ = try await withDeadline(.seconds(1), on: VirtualClock()) { signal in
                let release = OneShotEvent()
                try await signal.whileRunning(onAbort: { release.fire() }) {
                    await Self.waitIgnoringCancellation(release)
                }
                return 42
            }
        } throws: { error in
            (error as? DeadlineExceeded)?.expiry == .timeLimit
        }
    }

    /// The event fires while work runs: its current abort action runs, one registered earlier
    /// (and no longer in force) does not, and the error says it was abandoned.
    @Test func anAbandonedOperationRunsOnlyTheAbortActionInForce() async throws {
        let abandon = OneShotEvent()
        let inSecondPhase = OneShotEvent()
        let earlier = LockedBox(0)
        let current = LockedBox(0)
        async let outcome: Result<Int, any Error> = {
            do {
                return .success(try await withDeadline(.seconds(60), abandonWhen: abandon) { signal in
                    try await signal.whileRunning(onAbort: { earlier.with { $0 += 1 } }) {}
                    let release = OneShotEvent()
                    try await signal.whileRunning(onAbort: {
                        current.with { $0 += 1 }
                        release.fire()
                    }) {
                        inSecondPhase.fire()
                        await Self.waitIgnoringCancellation(release)
                    }
                    return 1
                })
            } catch {
                return .failure(error)
            }
        }()
        await inSecondPhase.wait()
        abandon.fire()
        guard case .failure(let error) = await outcome else {
            Issue.record("an abandoned operation succeeded")
            return
        }
        #expect((error as? DeadlineExceeded)?.expiry == .abandoned, "\(error)")
        #expect(earlier.with { $0 } == 0)
        #expect(current.with { $0 } == 1)
    }

    /// An event that fired before the work registers its action: the body never runs.
    @Test func workTiedToAnEventThatAlreadyFiredDoesNotStart() async throws {
        let abandon = OneShotEvent()
        abandon.fire()
        let ran = LockedBox(false)
        let aborted = LockedBox(false)
        await #expect {
            _ = try await withDeadline(.seconds(60), abandonWhen: abandon) { signal in
                try await signal.whileRunning(onAbort: { aborted.with { $0 = true } }) {
                    ran.with { $0 = true }
                }
            }
        } throws: { error in
            (error as? DeadlineExceeded)?.expiry == .abandoned
        }
        #expect(!ran.with { $0 })
        #expect(aborted.with { $0 })
    }

    /// A cancelled caller gets `CancellationError`, and work that ignores cancellation is still
    /// ended by its abort action.
    @Test func aCancelledCallerRunsTheAbortActions() async throws {
        let started = OneShotEvent()
        let aborted = LockedBox(false)
        let task = Task {
            try await withDeadline(.seconds(3600)) { signal in
                let release = OneShotEvent()
                try await signal.whileRunning(onAbort: {
                    aborted.with { $0 = true }
                    release.fire()
                }) {
                    started.fire()
                    await Self.waitIgnoringCancellation(release)
                }
                return 1
            }
        }
        await started.wait()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(aborted.with { $0 })
    }
}
