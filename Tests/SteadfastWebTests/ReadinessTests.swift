import SteadfastWeb
import Testing

/// `/readyz`'s checks are bounded by `withDeadline` (the one deadline helper): a dependency that
/// does not answer in time is reported failing, and the other checks still report.
@Suite struct ReadinessTests {
    @Test func aCheckPastItsLimitIsFailingAndTheOthersStillReport() async {
        let readiness = Readiness(nodeID: "n1", checks: [
            ReadinessCheck(name: "stuck") {
                // Hangs until the deadline cancels it.
                try await Task.sleep(for: .seconds(3600))
                return .healthy
            },
            ReadinessCheck(name: "database") { .healthy },
            ReadinessCheck(name: "storage") { .init(degraded: "one target down") },
        ], timeout: .milliseconds(200))
        let report = await readiness.report()
        #expect(report.status == "unavailable" && !report.ready)
        #expect(report.failing == ["stuck"] && report.degraded == ["storage"])
        #expect(report.checks["stuck"]?.error?.hasPrefix("no answer within") == true, "\(String(describing: report.checks["stuck"]))")
        #expect(report.checks["database"]?.status == "ok" && report.checks["storage"]?.detail == "one target down")
    }
}
