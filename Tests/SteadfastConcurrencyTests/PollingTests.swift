import SteadfastTestSupport
import Testing

/// The tests' one polling helper (Tests/SteadfastTestSupport/Polling.swift): a wait that never
/// sees its condition must end at its deadline and say what it waited for, or a broken live test
/// would hang or fail with no clue.
@Suite struct PollingTests {
    @Test func waitUntilThrowsWhatItWaitedForWhenTheConditionNeverHolds() async {
        let error = await #expect(throws: WaitTimedOut.self) {
            try await waitUntil("the answer is 42", timeout: .milliseconds(50), interval: .milliseconds(5)) { false }
        }
        #expect(error?.description == "timed out after 50ms waiting until the answer is 42", "\(String(describing: error))")
    }

    @Test func waitForReturnsTheFirstValueAndAsksNoMore() async throws {
        let calls = LockedBox(0)
        let value = try await waitFor("the third answer", interval: .milliseconds(1)) {
            calls.with { count -> String? in
                count += 1
                return count == 3 ? "three" : nil
            }
        }
        #expect(value == "three" && calls.value == 3)
    }

    @Test func anErrorFromTheConditionEndsTheWaitAtOnce() async {
        struct Exited: Error {}
        let calls = LockedBox(0)
        await #expect(throws: Exited.self) {
            try await waitUntil("never", timeout: .seconds(30)) {
                calls.with { $0 += 1 }
                throw Exited()
            }
        }
        #expect(calls.value == 1)
    }

    @Test func theBlockingFormGivesUpAtItsDeadlineOrStopsWhenTheConditionHolds() {
        #expect(!eventuallyBlocking(timeout: .milliseconds(20), interval: .milliseconds(2)) { false })
        let calls = LockedBox(0)
        #expect(eventuallyBlocking(timeout: .seconds(30), interval: .milliseconds(1)) { calls.with { $0 += 1; return $0 == 2 } })
        #expect(calls.value == 2)
    }
}
