import SteadfastTestSupport
import Testing

/// The tests' hand-moved clock (Tests/SteadfastTestSupport/ManualClock.swift): scheduler tests
/// move it only while the code they wait for is asleep on it, so what it reports about its
/// sleepers must be exact.
@Suite struct ManualClockTests {
    @Test func aSleepIsKnownByWhatItAskedForUntilTheClockPassesItsDeadline() async throws {
        let clock = ManualClock()
        #expect(!clock.isSleeping(for: .milliseconds(800)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clock.sleep(for: .milliseconds(800)) }
            try await waitUntil("the sleep waits on the clock") { clock.isSleeping(for: .milliseconds(800)) }
            #expect(!clock.isSleeping(for: .milliseconds(700)) && clock.sleepers == 1)
            // Part of the way: still the same sleep, known by what it asked for.
            clock.advance(by: .milliseconds(799))
            #expect(clock.isSleeping(for: .milliseconds(800)))
            clock.advance(by: .milliseconds(1))
            #expect(!clock.isSleeping(for: .milliseconds(800)) && clock.sleepers == 0)
            try await group.waitForAll()
        }
    }

    @Test func aCancelledSleepNoLongerCounts() async throws {
        let clock = ManualClock()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clock.sleep(for: .seconds(3600)) }
            try await waitUntil("the sleep waits on the clock") { clock.isSleeping(for: .seconds(3600)) }
            group.cancelAll()
            await #expect(throws: CancellationError.self) { try await group.next() }
        }
        #expect(!clock.isSleeping(for: .seconds(3600)) && clock.sleepers == 0)
    }
}
