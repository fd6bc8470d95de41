import Testing
@testable import SteadfastChaos

@Suite struct TargetsTests {
    let fault = FaultTimeline(start: 5, recovered: 6)
    let passingAudit = [AuditCheck(name: "payments exactly once", passed: true, detail: "", problems: []),
                        AuditCheck(name: "uploads byte-identical, nothing half-stored", passed: true, detail: "", problems: [])]

    func evaluate(_ scenario: Scenario, _ records: [RequestRecord], fault: FaultTimeline? = nil, audit: [AuditCheck]? = nil, lost: Int = 0,
                  settings: TargetSettings = TargetSettings()) -> [String: Bool] {
        let results = Targets.evaluate(scenario: scenario, records: records, fault: fault ?? self.fault, audit: audit ?? passingAudit, lostSessions: lost, settings: settings)
        return Dictionary(results.map { ($0.name, $0.passed) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func killNodeAllowsAFailedWriteButNoFailedGET() {
        let failedWrite = fail(5.1, .reset, kind: .pay, status: nil)
        let clean = evaluate(.killNode, [ok(1), ok(5.2), failedWrite])
        #expect(clean["zero failed GETs"] == true)
        #expect(clean["zero failed requests of any kind"] == nil)
        let failedGET = evaluate(.killNode, [ok(1), fail(5.2, .connectRefused, status: nil), failedWrite])
        #expect(failedGET["zero failed GETs"] == false)
    }

    @Test func rollingRestartAllowsNoFailureOfAnyKind() {
        let results = evaluate(.rollingRestart, [ok(1), fail(5.1, .serverError, kind: .checkout)])
        #expect(results["zero failed GETs"] == true)
        #expect(results["zero failed requests of any kind"] == false)
        #expect(evaluate(.balancerReload, [ok(1), ok(2, kind: .upload)])["zero failed requests of any kind"] == true)
    }

    @Test func aSessionLostDuringTheRunOrAfterwardsFailsTheTarget() {
        #expect(evaluate(.slowNode, [ok(1)])["zero lost sessions"] == true)
        #expect(evaluate(.slowNode, [ok(1)], lost: 1)["zero lost sessions"] == false)
        #expect(evaluate(.slowNode, [ok(1), fail(5.5, .sessionLost, kind: .sessionRead, status: 401)])["zero lost sessions"] == false)
    }

    @Test func aFaultThatCouldNotBeInjectedFailsTheRun() {
        let broken = FaultTimeline(start: 5, recovered: 5, errors: ["cluster kill node-2: exited with status 1"])
        #expect(evaluate(.killNode, [ok(1)], fault: broken)["fault injected and undone"] == false)
        #expect(evaluate(.killNode, [ok(1)])["fault injected and undone"] == true)
    }

    @Test func auditChecksAreTargetsToo() {
        let audit = [AuditCheck(name: "no session lost", passed: false, detail: "", problems: ["x"])]
        #expect(evaluate(.killNode, [ok(1)], audit: audit)["audit: no session lost"] == false)
    }

    @Test func writeOutageWithPromoteIsMeasuredFromTheDeathToTheLastFailedWrite() {
        // Primary killed at 5.0, promoted (failover returned) at 5.6.
        let failover = FaultTimeline(start: 5.0, recovered: 5.6)
        let settings = TargetSettings()
        // Last failed write ends at 6.5: 0.9 s after the promotion → kept.
        let kept = [ok(4, kind: .pay), fail(5.2, .serverError, 1300, kind: .pay), ok(6.6, kind: .checkout)]
        #expect(Targets.writeOutage(kept, fault: failover, settings: settings).passed)
        // Last failed write ends at 6.7: 1.1 s after the promotion → missed.
        let missed = [fail(5.2, .serverError, 1500, kind: .pay), ok(6.8, kind: .checkout)]
        let result = Targets.writeOutage(missed, fault: failover, settings: settings)
        #expect(!result.passed)
        #expect(result.detail.contains("1.7 s"))
        // A failed read does not count as a write outage.
        #expect(Targets.writeOutage([fail(5.2, .serverError, 5000, kind: .apiRead), ok(6, kind: .pay)], fault: failover, settings: settings).passed)
    }

    @Test func writeOutageNeedsAWriteAfterThePromotionToHaveMeasuredAnything() {
        let failover = FaultTimeline(start: 5.0, recovered: 5.6)
        let result = Targets.writeOutage([ok(4, kind: .pay), ok(5.5, kind: .pay)], fault: failover, settings: TargetSettings())
        #expect(!result.passed)
        #expect(result.detail.contains("not measured"))
    }

    @Test func writeOutageWithPatroniIsBoundByItsTTL() {
        var settings = TargetSettings()
        settings.failoverMode = .patroni
        settings.patroniTTL = 6
        let failover = FaultTimeline(start: 5.0, recovered: 11)
        // Writes failed until 11.9: 6.9 s ≤ 6 + 1.
        #expect(Targets.writeOutage([fail(11.0, .serverError, 900, kind: .pay), ok(12, kind: .pay)], fault: failover, settings: settings).passed)
        // Until 12.1: 7.1 s > 7.
        #expect(!Targets.writeOutage([fail(11.0, .serverError, 1100, kind: .pay), ok(12.2, kind: .pay)], fault: failover, settings: settings).passed)
    }

    @Test func dbFailoverReadsMustKeepWorkingDuringTheFailover() {
        let failover = FaultTimeline(start: 5.0, recovered: 5.6)
        let working = [ok(5.1, kind: .sessionRead), ok(6, kind: .pay)]
        #expect(evaluate(.dbFailover, working, fault: failover)["reads keep working (session and account reads, served by a standby while no primary is reachable)"] == true)
        let broken = [ok(5.1, kind: .sessionRead), fail(5.2, kind: .sessionRead), ok(6, kind: .pay)]
        #expect(evaluate(.dbFailover, broken, fault: failover)["reads keep working (session and account reads, served by a standby while no primary is reachable)"] == false)
        // No such read from the death to 1 s after the promotion: nothing was shown.
        #expect(evaluate(.dbFailover, [ok(1, kind: .sessionRead), ok(6.7, kind: .sessionRead), ok(6, kind: .pay)], fault: failover)["reads keep working (session and account reads, served by a standby while no primary is reachable)"] == false)
        #expect(evaluate(.dbFailover, [ok(1, kind: .sessionRead), ok(6.5, kind: .sessionRead), ok(6, kind: .pay)], fault: failover)["reads keep working (session and account reads, served by a standby while no primary is reachable)"] == true)
    }

    @Test func dbFailoverLostWritesComeFromTheAudit() {
        let failover = FaultTimeline(start: 5.0, recovered: 5.6)
        let audit = [AuditCheck(name: "payments exactly once", passed: false, detail: "", problems: ["lost"]),
                     AuditCheck(name: "no session lost", passed: true, detail: "", problems: [])]
        #expect(evaluate(.dbFailover, [ok(6, kind: .pay)], fault: failover, audit: audit)["zero acknowledged writes lost or duplicated"] == false)
        #expect(evaluate(.dbFailover, [ok(6, kind: .pay)], fault: failover)["zero acknowledged writes lost or duplicated"] == true)
    }

    @Test func storageOutageWantsFast503sAndEverythingElseWorking() {
        // Storage stopped at 5, back at 10; grace 2 s → file requests from 12 must work.
        let outage = FaultTimeline(start: 5, recovered: 10)
        let good = [
            ok(1, kind: .upload), fail(6, .serverError, 50, kind: .upload, status: 503), fail(7, .serverError, 80, kind: .download, status: 503),
            ok(7.5, kind: .page), ok(8, kind: .sessionRead), ok(12.5, kind: .upload), ok(13, kind: .download),
        ]
        let results = evaluate(.storageOutage, good, fault: outage)
        #expect(results["uploads and downloads fail fast with a clear 503"] == true)
        #expect(results["every other page works"] == true)
        #expect(results["everything works again without a restart"] == true)
        #expect(results["nothing half-stored"] == true)

        // A slow 503, a 500 and a reset are not "fast with a clear 503".
        for bad in [fail(6, .serverError, 4000, kind: .upload, status: 503), fail(6, .serverError, 50, kind: .upload, status: 500),
                    fail(6, .reset, 50, kind: .download, status: nil)] {
            #expect(evaluate(.storageOutage, good + [bad], fault: outage)["uploads and downloads fail fast with a clear 503"] == false)
        }
        // A page failing during the outage, or an upload failing after it.
        #expect(evaluate(.storageOutage, good + [fail(7, kind: .page)], fault: outage)["every other page works"] == false)
        #expect(evaluate(.storageOutage, good + [fail(12.6, kind: .upload, status: 503)], fault: outage)["everything works again without a restart"] == false)
        // No file request after the outage: recovery was not shown.
        #expect(evaluate(.storageOutage, Array(good.prefix(5)), fault: outage)["everything works again without a restart"] == false)
    }

    /// The stop command ran from 5 s to 8 s (the server shutting down). A download sent at 5.1 s
    /// and answered 503 at 8.6 s took 3.5 s, but failed 0.6 s after the server was gone: fast.
    /// One answered at 10.6 s, 2.6 s after, was not; nor is one sent at 9 s that took 2.6 s.
    @Test func storageOutageMeasuresFailFastFromWhenTheServerWasGone() {
        let outage = FaultTimeline(start: 5, injected: 8, recovered: 10)
        let good = [fail(5.1, .serverError, 3500, kind: .download, status: 503), ok(12.5, kind: .upload), ok(13, kind: .download)]
        let name = "uploads and downloads fail fast with a clear 503"
        #expect(evaluate(.storageOutage, good, fault: outage)[name] == true)
        #expect(evaluate(.storageOutage, good + [fail(5.1, .serverError, 5500, kind: .download, status: 503)], fault: outage)[name] == false)
        #expect(evaluate(.storageOutage, good + [fail(9, .serverError, 2600, kind: .upload, status: 503)], fault: outage)[name] == false)
        // Without the moment the server was gone (an older report), from the request's start.
        #expect(evaluate(.storageOutage, good, fault: FaultTimeline(start: 5, recovered: 10))[name] == false)
    }

    /// Stopped 5–8 s, started again from 11 s until 20 s. An upload sent at 12 s that a starting
    /// server held past the load's 10 s timeout is not judged; one sent at 10.5 s is. From
    /// 22 s (recovery + 2 s grace) everything must work again, as before.
    @Test func storageOutageDoesNotJudgeRequestsSentWhileTheServerStartsAgain() {
        let outage = FaultTimeline(start: 5, injected: 8, undoStarted: 11, recovered: 20)
        let good = [fail(6, .serverError, 50, kind: .upload, status: 503), ok(22.5, kind: .upload), ok(23, kind: .download)]
        let name = "uploads and downloads fail fast with a clear 503"
        #expect(evaluate(.storageOutage, good, fault: outage)[name] == true)
        let heldWhileStarting = fail(12, .timeout, 10_000, kind: .upload, status: nil)
        #expect(evaluate(.storageOutage, good + [heldWhileStarting], fault: outage)[name] == true)
        #expect(evaluate(.storageOutage, good + [fail(10.5, .timeout, 10_000, kind: .upload, status: nil)], fault: outage)[name] == false)
        // Sent once the server was back (20 s), within the grace: judged again.
        #expect(evaluate(.storageOutage, good + [fail(21, .serverError, 50, kind: .upload, status: 500)], fault: outage)[name] == false)
        #expect(evaluate(.storageOutage, good + [fail(22.5, kind: .upload, status: 503)], fault: outage)["everything works again without a restart"] == false)
    }
}
