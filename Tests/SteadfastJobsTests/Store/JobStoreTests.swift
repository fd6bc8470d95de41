import Foundation
import Logging
import SteadfastPersistence
@testable import SteadfastJobs
import Testing
import SteadfastTestSupport

/// The claim SQL on SQLite and PostgreSQL, with an injected clock.
@Suite struct JobStoreTests {
    static let lease: Duration = .seconds(5)

    static func job(_ name: String = "j", catchUp: CatchUpPolicy = .runOnce, maxTakeovers: Int = 3) -> JobDefinition {
        JobDefinition(name, schedule: .every(.seconds(1)), catchUp: catchUp, maxTakeovers: maxTakeovers) { _ in }
    }

    static func claimed(_ result: ClaimResult) throws -> Claim {
        guard case .claimed(let claim) = result else { throw TestFailure("expected a claim, got \(result)") }
        return claim
    }

    @Test(arguments: EngineKind.allCases)
    func aSlotIsClaimedOnceHoweverManyNodesTry(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 3) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job()
            try await JobStore(database: databases[0]).publish([job], node: "a", now: clock.now())
            let now = clock.now()
            let results = try await withThrowingTaskGroup(of: (String, ClaimResult).self) { group in
                for i in 0..<12 {
                    let store = JobStore(database: databases[i % databases.count])
                    group.addTask { ("n\(i)", try await store.claimNext(job.rules, node: "n\(i)", claimID: UUID(), now: now, lease: Self.lease)) }
                }
                var all: [(String, ClaimResult)] = []
                for try await result in group { all.append(result) }
                return all
            }
            let winners = results.filter { if case .claimed = $0.1 { true } else { false } }
            #expect(winners.count == 1)
            let (winner, result) = try #require(winners.first)
            let claim = try Self.claimed(result)
            #expect(claim.fencingToken == 1 && claim.slotKey == "2027-01-15T08:00:00.000Z" && !claim.takenOver)
            for (_, other) in results where other != result {
                #expect(other == .busy(slotKey: claim.slotKey, holder: winner))
            }
            let store = JobStore(database: databases[1])
            #expect(try await store.finish(claim, outcome: .succeeded, duration: .milliseconds(3), now: now))
            // The slot is done: nothing more until the next one.
            #expect(try await store.claimNext(job.rules, node: "x", claimID: UUID(), now: now, lease: Self.lease) == .nothing(skipped: 0, abandoned: nil))
            clock.advance(by: 1)
            let next = try Self.claimed(try await store.claimNext(job.rules, node: "x", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(next.slotKey == "2027-01-15T08:00:01.000Z")
            let record = try #require(try await store.run(job: "j", slotKey: claim.slotKey))
            #expect(record.state == "succeeded" && record.holder == winner && record.fencingToken == 1 && record.duration == .milliseconds(3))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aTakeoverAfterTheLeaseExpiresFencesTheOldHolderOut(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 2) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job()
            let a = JobStore(database: databases[0])
            let b = JobStore(database: databases[1])
            try await a.publish([job], node: "a", now: clock.now())
            let first = try Self.claimed(try await a.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease))
            clock.advance(by: 4.9)
            #expect(try await b.claimNext(job.rules, node: "b", claimID: UUID(), now: clock.now(), lease: Self.lease) == .busy(slotKey: first.slotKey, holder: "a"))
            #expect(try await b.jobsWithOpenWork(now: clock.now()).isEmpty)
            clock.advance(by: 0.2)
            #expect(try await b.jobsWithOpenWork(now: clock.now()) == ["j"])
            // The dead holder's slot comes before the newer slots now due.
            let second = try Self.claimed(try await b.claimNext(job.rules, node: "b", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(second.slotKey == first.slotKey && second.fencingToken == 2 && second.takenOver)

            // Everything the old holder tries is refused.
            #expect(try await a.renew(first, node: "a", now: clock.now(), lease: Self.lease) == false)
            let late = JobContext(claim: first, node: "a", clock: clock, logger: Logger(label: "test"), database: databases[0])
            await #expect(throws: JobError.fenced(job: "j", slotKey: first.slotKey, token: 1)) {
                try await late.fencedTransaction { db in try await db.query("INSERT INTO settings (key, value, updated_at) VALUES ('late', 'a', \(Date()))") }
            }
            #expect(try await a.finish(first, outcome: .succeeded, duration: .zero, now: clock.now()) == false)
            #expect(try await a.release(first, now: clock.now()) == false)

            let current = JobContext(claim: second, node: "b", clock: clock, logger: Logger(label: "test"), database: databases[1])
            try await current.fencedTransaction { db in try await db.query("INSERT INTO settings (key, value, updated_at) VALUES ('current', 'b', \(Date()))") }
            #expect(try await b.finish(second, outcome: .succeeded, duration: .zero, now: clock.now()))
            let settings = try await databases[0].query("SELECT key FROM settings WHERE key IN ('late', 'current')").map { try $0.string("key") }
            #expect(settings == ["current"])
            let record = try #require(try await a.run(job: "j", slotKey: first.slotKey))
            #expect(record.state == "succeeded" && record.holder == "b" && record.fencingToken == 2 && record.takeovers == 1)
            // A fenced write after the run finished is refused too.
            await #expect(throws: JobError.self) {
                try await current.fencedTransaction { db in try await db.query("SELECT 1 AS one") }
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aHandedBackSlotIsTakenOverAtOnce(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 2) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job()
            let a = JobStore(database: databases[0])
            let b = JobStore(database: databases[1])
            try await a.publish([job], node: "a", now: clock.now())
            let first = try Self.claimed(try await a.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(try await a.release(first, now: clock.now()))
            #expect(try await a.release(first, now: clock.now()), "repeatable")
            #expect(try await b.jobsWithOpenWork(now: clock.now()) == ["j"])
            let second = try Self.claimed(try await b.claimNext(job.rules, node: "b", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(second.slotKey == first.slotKey && second.fencingToken == 2 && second.takenOver)
            let record = try #require(try await b.run(job: "j", slotKey: first.slotKey))
            #expect(record.state == "running" && record.holder == "b" && record.takeovers == 0)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aSlotWhoseHoldersKeepDyingIsAbandoned(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job(maxTakeovers: 1)
            let store = JobStore(database: databases[0])
            try await store.publish([job], node: "a", now: clock.now())
            let first = try Self.claimed(try await store.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease))
            clock.advance(by: 6)
            let second = try Self.claimed(try await store.claimNext(job.rules, node: "b", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(second.slotKey == first.slotKey && second.fencingToken == 2)
            clock.advance(by: 6)
            // Given up; the claim goes on to the schedule (the current slot, on time).
            let third = try Self.claimed(try await store.claimNext(job.rules, node: "c", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(third.slotKey != first.slotKey && third.fencingToken == 1)
            #expect(third.missedSlots == 11, "run once: the run stands for the slots missed meanwhile")
            let record = try #require(try await store.run(job: "j", slotKey: first.slotKey))
            #expect(record.state == "abandoned" && record.error?.contains("holders lost the lease") == true)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aManualRunIsClaimedOnce(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 3) { databases in
            let clock = ManualClock(offSlot)
            let job = JobDefinition("report", schedule: .every(.seconds(86_400)), catchUp: .skip) { _ in }
            let store = JobStore(database: databases[0])
            try await store.publish([job], node: "a", now: clock.now())
            await #expect(throws: JobError.self) { try await store.requestRun(job: "nope", requestedBy: "x", now: clock.now()) }
            let key = try await store.requestRun(job: "report", requestedBy: "staff@example.com", now: clock.now())
            #expect(key.hasPrefix("manual:"))
            #expect(try await store.jobsWithOpenWork(now: clock.now()) == ["report"])
            let now = clock.now()
            let results = try await withThrowingTaskGroup(of: ClaimResult.self) { group in
                for i in 0..<6 {
                    let store = JobStore(database: databases[i % databases.count])
                    group.addTask { try await store.claimNext(job.rules, node: "n\(i)", claimID: UUID(), now: now, lease: Self.lease) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let claims = results.compactMap { if case .claimed(let c) = $0 { c } else { nil } }
            #expect(claims.count == 1)
            let claim = try #require(claims.first)
            #expect(claim.slotKey == key && claim.kind == .manual && claim.fencingToken == 1 && !claim.takenOver)
            #expect(try await store.finish(claim, outcome: .failed("no data"), duration: .seconds(1), now: now))
            let record = try #require(try await store.run(job: "report", slotKey: key))
            #expect(record.kind == .manual && record.requestedBy == "staff@example.com" && record.state == "failed" && record.error == "no data")
            #expect(try await store.claimNext(job.rules, node: "z", claimID: UUID(), now: now, lease: Self.lease) == .nothing(skipped: 0, abandoned: nil))
        }
    }

    /// One slot ran; then ten seconds pass with nobody looking (nine slots missed, one on time).
    @Test(arguments: EngineKind.allCases, [CatchUpPolicy.runAll, .runOnce, .skip])
    func missedSlotsFollowTheJobsPolicy(_ kind: EngineKind, _ policy: CatchUpPolicy) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job(catchUp: policy)
            let store = JobStore(database: databases[0])
            try await store.publish([job], node: "a", now: clock.now())
            let first = try Self.claimed(try await store.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(try await store.finish(first, outcome: .succeeded, duration: .zero, now: clock.now()))
            clock.advance(by: 10)
            var ran: [Claim] = []
            while case .claimed(let claim) = try await store.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease) {
                ran.append(claim)
                #expect(try await store.finish(claim, outcome: .succeeded, duration: .zero, now: clock.now()))
            }
            let seconds = ran.map { Int(($0.slotAt.timeIntervalSince(first.slotAt)).rounded()) }
            let summary = try #require(try await store.jobs(now: clock.now()).first)
            switch policy {
            case .runAll:
                #expect(seconds == Array(1...10))
                #expect(ran.allSatisfy { $0.missedSlots == 0 } && summary.skippedSlots == 0)
            case .runOnce:
                #expect(seconds == [10] && ran.first?.missedSlots == 9 && summary.skippedSlots == 9)
            case .skip:
                #expect(seconds == [10] && ran.first?.missedSlots == 0 && summary.skippedSlots == 9)
            }
        }
    }

    /// The effect and the run's completion in one transaction: once committed the slot is never
    /// run again, even if its holder dies before recording the outcome; repeating it does nothing.
    @Test(arguments: EngineKind.allCases)
    func aCompletingTransactionMakesTheEffectAndTheCompletionOne(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job()
            let store = JobStore(database: databases[0])
            try await store.publish([job], node: "a", now: clock.now())
            let claim = try Self.claimed(try await store.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease))
            let context = JobContext(claim: claim, node: "a", clock: clock, logger: Logger(label: "test"), database: databases[0])
            let effect: @Sendable (any SQLExecutor) async throws -> Void = { db in
                try await db.query("INSERT INTO settings (key, value, updated_at) VALUES (\(claim.slotKey), 'done', \(Date()))")
            }
            #expect(try await context.completingTransaction(effect) == true)
            #expect(try await context.completingTransaction(effect) == false, "repeated: nothing happens")
            #expect(try await databases[0].query("SELECT key FROM settings WHERE key = \(claim.slotKey)").count == 1)
            #expect(try await store.run(job: "j", slotKey: claim.slotKey)?.state == "succeeded")
            // Still the holder's to renew and to record, but nobody else's to take over.
            #expect(try await store.renew(claim, node: "a", now: clock.now(), lease: Self.lease))
            clock.advance(by: 10)
            #expect(try await store.jobsWithOpenWork(now: clock.now()).isEmpty)
            let next = try Self.claimed(try await store.claimNext(job.rules, node: "b", claimID: UUID(), now: clock.now(), lease: Self.lease))
            #expect(next.slotKey != claim.slotKey)
            #expect(try await store.finish(claim, outcome: .succeeded, duration: .milliseconds(5), now: clock.now()))
            #expect(try await store.run(job: "j", slotKey: claim.slotKey)?.duration == .milliseconds(5))
            // Another claim on the same row (a stale token) is refused.
            let stale = Claim(job: "j", slotKey: next.slotKey, slotAt: next.slotAt, kind: .scheduled, fencingToken: 7, claimID: UUID())
            let staleContext = JobContext(claim: stale, node: "c", clock: clock, logger: Logger(label: "test"), database: databases[0])
            await #expect(throws: JobError.fenced(job: "j", slotKey: next.slotKey, token: 7)) { try await staleContext.completingTransaction(effect) }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func renewalsAndOutcomesAreConditionalAndRepeatable(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let job = Self.job()
            let store = JobStore(database: databases[0])
            try await store.publish([job], node: "a", now: clock.now())
            let claim = try Self.claimed(try await store.claimNext(job.rules, node: "a", claimID: UUID(), now: clock.now(), lease: Self.lease))
            clock.advance(by: 4)
            #expect(try await store.renew(claim, node: "a", now: clock.now(), lease: Self.lease))
            #expect(try await store.renew(claim, node: "b", now: clock.now(), lease: Self.lease) == false)
            let impostor = Claim(job: "j", slotKey: claim.slotKey, slotAt: claim.slotAt, kind: .scheduled, fencingToken: 1, claimID: UUID())
            #expect(try await store.renew(impostor, node: "a", now: clock.now(), lease: Self.lease) == false)
            clock.advance(by: 4)
            // Renewed at +4 s: still live at +8 s.
            #expect(try await store.claimNext(job.rules, node: "b", claimID: UUID(), now: clock.now(), lease: Self.lease) == .busy(slotKey: claim.slotKey, holder: "a"))
            #expect(try await store.finish(claim, outcome: .timedOut, duration: .seconds(8), now: clock.now()))
            #expect(try await store.finish(claim, outcome: .timedOut, duration: .seconds(8), now: clock.now()), "a retried finish changes nothing")
            #expect(try await store.finish(claim, outcome: .succeeded, duration: .seconds(8), now: clock.now()) == false)
            #expect(try await store.renew(claim, node: "a", now: clock.now(), lease: Self.lease) == false)
            let record = try #require(try await store.run(job: "j", slotKey: claim.slotKey))
            #expect(record.state == "timed_out" && record.error == "timed out" && record.leaseExpiresAt == nil)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func summariesHistoryAndPruning(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let store = JobStore(database: databases[0])
            let jobs = [Self.job("b-job"), JobDefinition("a-job", schedule: try .cron("0 3 * * *", timeZone: TimeZone(identifier: "Europe/Berlin")!)) { _ in }]
            try await store.publish(jobs, node: "n1", now: clock.now())
            try await store.publish(jobs, node: "n2", now: clock.now())
            var finished: [Claim] = []
            for _ in 0..<3 {
                let claim = try Self.claimed(try await store.claimNext(jobs[0].rules, node: "n1", claimID: UUID(), now: clock.now(), lease: Self.lease))
                #expect(try await store.finish(claim, outcome: .succeeded, duration: .milliseconds(2), now: clock.now()))
                finished.append(claim)
                clock.advance(by: 1)
            }
            let summaries = try await store.jobs(now: clock.now())
            #expect(summaries.map(\.name) == ["a-job", "b-job"])
            let a = summaries[0]
            #expect(a.schedule == "0 3 * * * (Europe/Berlin)" && a.catchUp == "run_once" && a.publishedBy == "n2" && a.lastRun == nil)
            #expect(a.nextSlotAt.map { SlotTime.key($0) } == "2027-01-16T02:00:00.000Z")
            let b = summaries[1]
            #expect(b.lastRun?.slotKey == finished.last?.slotKey && b.lastFinished?.state == "succeeded" && b.lastRun?.holder == "n1")
            #expect(b.nextSlotAt.map { SlotTime.key($0) } == "2027-01-15T08:00:04.000Z")
            #expect(try await store.history(job: "b-job", limit: 2).map(\.slotKey) == finished.reversed().prefix(2).map(\.slotKey))
            #expect(try await store.history(limit: 10).count == 3)
            #expect(try await store.prune(before: clock.now().addingTimeInterval(-1.5)) == 2)
            #expect(try await store.history().map(\.slotKey) == [finished[2].slotKey])
        }
    }
}

/// A test failure with a message (for `throw` inside helpers).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
