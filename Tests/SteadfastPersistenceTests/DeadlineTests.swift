import Foundation
@testable import SteadfastPersistence
import Testing

/// `withDeadline`: an answer in time passes through; a late one becomes a `.timeout` error at
/// the bound (give or take the watch's tick), without waiting for the stuck work.
@Suite(.timeLimit(.minutes(1))) struct DeadlineTests {
    @Test func anAnswerInTimeIsReturned() async throws {
        for value in 0..<200 {
            #expect(try await withDeadline(.seconds(5)) { value * 2 } == value * 2)
        }
    }

    @Test func stuckWorkTimesOutAtTheBoundWithoutBeingAwaited() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        await #expect {
            _ = try await withDeadline(.milliseconds(200)) {
                try? await Task.sleep(for: .seconds(30))
                return 1
            }
        } throws: { error in
            (error as? DatabaseError)?.kind == .timeout && (error as? DatabaseError)?.mayHaveCommitted == true
        }
        let elapsed = clock.now - started
        #expect(elapsed >= .milliseconds(200))
        #expect(elapsed < .seconds(10))
    }

    @Test func manyConcurrentDeadlinesEachFireOnce() async throws {
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<100 {
                group.addTask {
                    do {
                        _ = try await withDeadline(.milliseconds(100)) {
                            if index.isMultiple(of: 2) { try? await Task.sleep(for: .seconds(30)) }
                            return index
                        }
                        return true
                    } catch let error as DatabaseError where error.kind == .timeout {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 50)
        #expect(outcomes.filter { !$0 }.count == 50)
    }

    /// A host given up on (its engine retired) fails the statements stuck on it at once, long
    /// before their deadline, saying whether the statement may have committed.
    @Test func stuckWorkIsAbandonedWhenItsHostIsGivenUpOn() async throws {
        let clock = ContinuousClock()
        for committed in [false, true] {
            let event = OneShotEvent()
            let started = clock.now
            Task {
                try await Task.sleep(for: .milliseconds(100))
                event.fire()
            }
            await #expect {
                _ = try await withDeadline(.seconds(30), abandonWhen: event, mayHaveCommitted: { committed }) {
                    try? await Task.sleep(for: .seconds(30))
                    return 1
                }
            } throws: { error in
                (error as? DatabaseError)?.kind == .connectionFailure && (error as? DatabaseError)?.mayHaveCommitted == committed
            }
            #expect(clock.now - started < .seconds(10))
        }
        // Work that finishes first is untouched; an event that already fired fails at once.
        let event = OneShotEvent()
        #expect(try await withDeadline(.seconds(5), abandonWhen: event) { 7 } == 7)
        event.fire()
        await #expect(throws: DatabaseError.self) {
            _ = try await withDeadline(.seconds(30), abandonWhen: event) { try await Task.sleep(for: .seconds(30)); return 1 }
        }
    }
}
