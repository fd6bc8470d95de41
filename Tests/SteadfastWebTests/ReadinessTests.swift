import SteadfastConcurrency
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// `/readyz`'s checks are bounded by `withDeadline` (the one deadline helper): a dependency that
/// does not answer in time is reported failing, and the other checks still report.
@Suite(.timeLimit(.minutes(1))) struct ReadinessTests {
    /// The limit runs on the injected clock (a `ManualClock` here): the stuck check is reported
    /// once that clock reaches it, and the checks that answered report as they did.
    @Test func aCheckPastItsLimitIsFailingAndTheOthersStillReport() async throws {
        let clock = ManualClock()
        let readiness = Readiness(nodeID: "n1", checks: [
            ReadinessCheck(name: "stuck") {
                // Hangs until the deadline cancels it.
                await OneShotEvent().wait()
                try Task.checkCancellation()
                return .healthy
            },
            ReadinessCheck(name: "database") { .healthy },
            ReadinessCheck(name: "storage") { .init(degraded: "one target down") },
        ], timeout: .seconds(2), clock: clock.steady)
        async let answer = readiness.report()
        // Only the stuck check's limit is left asleep: the others' timers ended with them.
        try await waitUntil("the stuck check's limit alone on the clock, saw \(clock.sleepers)") {
            clock.sleepers == 1 && clock.isSleeping(for: .seconds(2))
        }
        clock.advance(by: .milliseconds(1_999))
        #expect(clock.isSleeping(for: .seconds(2)))
        clock.advance(by: .milliseconds(1))
        let report = await answer
        #expect(report.status == "unavailable" && !report.ready)
        #expect(report.failing == ["stuck"] && report.degraded == ["storage"])
        #expect(report.checks["stuck"]?.error == "no answer within 2s", "\(String(describing: report.checks["stuck"]))")
        #expect(report.checks["database"]?.status == "ok" && report.checks["storage"]?.detail == "one target down")
    }
}
