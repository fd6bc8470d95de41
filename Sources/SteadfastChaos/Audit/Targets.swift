/// One target line of a report: what was promised, whether the run kept it, and the numbers.
public struct TargetResult: Codable, Sendable, Equatable {
    public var name: String
    public var passed: Bool
    public var detail: String

    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// The issue's targets per scenario (docs/chaos.md), checked against the request records, the
/// fault's timeline and the audit. Pure: everything, time included, is passed in.
public enum Targets {
    public static func evaluate(
        scenario: Scenario, records: [RequestRecord], fault: FaultTimeline, audit: [AuditCheck], lostSessions: Int, settings: TargetSettings
    ) -> [TargetResult] {
        var results = [faultInjected(fault)]
        switch scenario {
        case .killNode, .slowNode:
            results += [failedGETs(records), sessionsKept(records, lostSessions: lostSessions)]
        case .rollingRestart, .balancerReload:
            results += [failedGETs(records), failedRequests(records), sessionsKept(records, lostSessions: lostSessions)]
        case .dbFailover:
            results += [
                writesKept(audit), standbyReads(records, fault: fault, slack: settings.failoverSlack), writeOutage(records, fault: fault, settings: settings),
            ]
        case .storageOutage:
            results += storageOutage(records, fault: fault, audit: audit, settings: settings)
        }
        results += audit.map { TargetResult(name: "audit: \($0.name)", passed: $0.passed, detail: $0.detail) }
        return results
    }

    static func faultInjected(_ fault: FaultTimeline) -> TargetResult {
        TargetResult(
            name: "fault injected and undone", passed: fault.errors.isEmpty,
            detail: fault.errors.isEmpty ? "from \(seconds(fault.start)) to \(seconds(fault.recovered))" : fault.errors.joined(separator: "; ")
        )
    }

    static func failedGETs(_ records: [RequestRecord]) -> TargetResult {
        let reads = records.filter(\.kind.isRead)
        let failed = reads.count(where: \.failed)
        return TargetResult(name: "zero failed GETs", passed: failed == 0, detail: "\(failed) of \(reads.count) GETs failed\(kinds(reads))")
    }

    static func failedRequests(_ records: [RequestRecord]) -> TargetResult {
        let failed = records.count(where: \.failed)
        return TargetResult(
            name: "zero failed requests of any kind", passed: failed == 0, detail: "\(failed) of \(records.count) requests failed\(kinds(records))"
        )
    }

    /// Lost sessions: visitors answered 401 (or sent to log in) during the run, plus sessions the audit found gone.
    static func sessionsKept(_ records: [RequestRecord], lostSessions: Int) -> TargetResult {
        let visitors = Set(records.filter { $0.failure == .sessionLost }.map(\.visitor))
        let lost = visitors.count + lostSessions
        return TargetResult(
            name: "zero lost sessions", passed: lost == 0,
            detail: "\(visitors.count) visitors were sent to log in during the run, \(lostSessions) sessions gone afterwards"
        )
    }

    static func writesKept(_ audit: [AuditCheck]) -> TargetResult {
        let relevant = audit.filter { !$0.name.contains("session") }
        let failing = relevant.filter { !$0.passed }.map(\.name)
        return TargetResult(
            name: "zero acknowledged writes lost or duplicated", passed: failing.isEmpty && !relevant.isEmpty,
            detail: failing.isEmpty ? "payments, invoices and uploads all audited" : "failed: \(failing.joined(separator: ", "))"
        )
    }

    /// No session/account read fails, and some ran while the failover was going on (from the
    /// death to `slack` after the promotion, while the nodes find the new primary): a promotion
    /// takes about half a second here, too short to be sure of a read inside it.
    static func standbyReads(_ records: [RequestRecord], fault: FaultTimeline, slack: Double) -> TargetResult {
        let reads = records.filter(\.kind.standbyReadable)
        let during = reads.filter { $0.end >= fault.start && $0.start <= fault.recovered + slack }
        let failed = reads.count(where: \.failed)
        return TargetResult(
            name: "reads keep working (session and account reads, served by a standby while no primary is reachable)",
            passed: failed == 0 && !during.isEmpty,
            detail: during.isEmpty ? "no such read ran during the failover" : "\(failed) of \(reads.count) failed, \(during.count) during the failover\(kinds(reads))"
        )
    }

    /// When writes were out: from the primary's death (the fault's start) to the end of the last
    /// failed write. With `promote` it may end at most `failoverSlack` after the promotion (the
    /// failover command's return); with Patroni at most ttl + slack after the death. A run with
    /// no successful write after the promotion has measured nothing and fails.
    public static func writeOutage(_ records: [RequestRecord], fault: FaultTimeline, settings: TargetSettings) -> TargetResult {
        let writes = records.filter(\.kind.isWrite)
        let failed = writes.filter { $0.failed && $0.end >= fault.start }
        let end = failed.map(\.end).max() ?? fault.start
        let outage = end - fault.start
        let promotion = fault.recovered - fault.start
        let measured = writes.contains { !$0.failed && $0.start >= fault.recovered }
        let (limit, limitText): (Double, String) = switch settings.failoverMode {
        case .promote: (promotion + settings.failoverSlack, "promotion \(seconds(promotion)) + \(seconds(settings.failoverSlack))")
        case .patroni: (settings.patroniTTL + settings.failoverSlack, "Patroni ttl \(seconds(settings.patroniTTL)) + \(seconds(settings.failoverSlack))")
        }
        let name = switch settings.failoverMode {
        case .promote: "write outage ≤ 1 s beyond the promotion"
        case .patroni: "write outage ≤ Patroni's ttl + 1 s"
        }
        return TargetResult(
            name: name, passed: measured && outage <= limit,
            detail: measured
                ? "writes failed for \(seconds(outage)) from the primary's death (\(failed.count) failed writes); limit \(seconds(limit)) (\(limitText))"
                : "no write succeeded after the promotion, so the outage was not measured (\(failed.count) failed writes)"
        )
    }

    static func storageOutage(_ records: [RequestRecord], fault: FaultTimeline, audit: [AuditCheck], settings: TargetSettings) -> [TargetResult] {
        let outageEnd = fault.recovered + settings.storageRecoveryGrace
        let fileRequests = records.filter(\.kind.needsStorage)
        // Judged: file requests sent from the stop until 2 s after the server is back, except
        // those sent while it was being started again (from the undo step's start until it
        // returned). While it starts, a storage server may accept a request and hold it until it
        // is ready; the node waits for it as for any slow server, and stores and acknowledges
        // the upload once it answers, by which time the load's client may have given up. That
        // is neither the outage nor the recovery, so those are not judged here: the upload audit
        // still checks that nothing was half-stored, and everything from the grace's end on must
        // work (below).
        func sentWhileStarting(_ record: RequestRecord) -> Bool {
            guard let undoStarted = fault.undoStarted else { return false }
            return record.start >= undoStarted && record.start < fault.recovered
        }
        let outageFailed = fileRequests.filter { $0.failed && $0.end >= fault.start && $0.start < outageEnd }
        let duringFailed = outageFailed.filter { !sentWhileStarting($0) }
        let whileStarting = outageFailed.filter(sentWhileStarting)
        // Fast is measured from the request's start, or from when the storage server was gone if
        // that was later: a request sent while the server was still shutting down (the stop
        // command takes seconds) waits for it like any client would, and cannot fail sooner.
        let down = fault.injected ?? fault.start
        func answeredIn(_ record: RequestRecord) -> Double { record.end - max(record.start, down) }
        let unclear = duringFailed.filter { $0.status != 503 || answeredIn($0) > settings.failFastLimit }
        let others = records.filter { !$0.kind.needsStorage }
        let othersFailed = others.count(where: \.failed)
        let after = records.filter { $0.start >= outageEnd }
        let afterFailed = after.count(where: \.failed)
        let afterFiles = after.count(where: { $0.kind.needsStorage && !$0.failed })
        let slowest = duringFailed.map(answeredIn).max() ?? 0
        let halfStored = audit.first { $0.name.hasPrefix("uploads") }
        return [
            TargetResult(
                name: "uploads and downloads fail fast with a clear 503", passed: unclear.isEmpty,
                detail: "\(duringFailed.count) failed during the outage, \(unclear.count) of them not a 503 within \(seconds(settings.failFastLimit)) of their start or of the storage server being gone (slowest \(seconds(slowest)))\(kinds(duringFailed))"
                    + (whileStarting.isEmpty ? "" : "; \(whileStarting.count) more failed while the storage server was starting again, not judged\(kinds(whileStarting))")
            ),
            TargetResult(
                name: "nothing half-stored", passed: halfStored?.passed ?? false, detail: halfStored?.detail ?? "the upload audit did not run"
            ),
            TargetResult(
                name: "every other page works", passed: othersFailed == 0, detail: "\(othersFailed) of \(others.count) other requests failed\(kinds(others))"
            ),
            TargetResult(
                name: "everything works again without a restart", passed: afterFailed == 0 && afterFiles > 0,
                detail: "\(afterFailed) of \(after.count) requests from \(seconds(settings.storageRecoveryGrace)) after the storage server was back failed; \(afterFiles) uploads/downloads worked"
            ),
        ]
    }

    /// ` (5xx: 3, reset: 1)` for the failed records, or nothing.
    static func kinds(_ records: [RequestRecord]) -> String {
        var counts: [FailureKind: Int] = [:]
        for record in records { if let failure = record.failure { counts[failure, default: 0] += 1 } }
        guard !counts.isEmpty else { return "" }
        return " (" + counts.sorted { $0.key < $1.key }.map { "\($0.key.rawValue): \($0.value)" }.joined(separator: ", ") + ")"
    }

    static func seconds(_ value: Double) -> String {
        let hundredths = (value * 100).rounded() / 100
        return "\(hundredths) s"
    }
}
