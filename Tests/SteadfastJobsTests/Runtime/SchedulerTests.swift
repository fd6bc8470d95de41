import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence
@testable import SteadfastJobs
import SteadfastTestSupport
import Synchronization
import Testing

/// The scheduler service in-process, on both engines: several schedulers (nodes) sharing one
/// database and one `ManualClock`. Every wait of the scheduler — its poll loop, its runners' slot,
/// lease and timeout timers, the job bodies here — is on that clock, which the tests move: a
/// lease passes when the test says so, never because the machine was slow.
@Suite(.serialized) struct SchedulerTests {
    static let fast = SchedulerSettings(lease: .seconds(1), pollInterval: .milliseconds(100), shutdownGrace: .milliseconds(300), cancelGrace: .milliseconds(300))
    /// `fast` with a lease no test moves the clock past: for tests about something else than
    /// lease expiry, whose clock moves on while a slow machine starts a body or writes to the
    /// database, a holder never loses its slot to its own slowness.
    static let fastLongLease = SchedulerSettings(lease: .seconds(600), pollInterval: .milliseconds(100), shutdownGrace: .milliseconds(300), cancelGrace: .milliseconds(300))

    @Test(arguments: EngineKind.allCases)
    func threeSchedulersRunEverySlotExactlyOnce(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 3) { databases in
            let clock = ManualClock(offSlot)
            let nodes = (0..<3).map { i in
                RunningScheduler([HeartbeatJob.definition(interval: .milliseconds(200))], database: databases[i], node: "n\(i)", settings: Self.fast, clock: clock)
            }
            @Sendable func count(_ state: String) async throws -> Int {
                Int(try await databases[0].query("SELECT count(*) AS n FROM job_runs WHERE job = 'heartbeat' AND state = \(state)").first?.int("n") ?? 0)
            }
            // The clock moves 100 ms at a time, and only while every node waits on it (a poll and
            // a slot timer each) and no slot is running: no lease can pass under a running slot,
            // so every slot is claimed once and finished by its first holder.
            let enough = try await clock.drive(by: .milliseconds(100), limit: .seconds(10), ready: {
                guard clock.sleepers == 6 else { return false }
                return try await count("running") == 0
            }) { try await count("succeeded") >= 8 }
            #expect(enough, "eight slots did not run within 10 s of the clock")
            // Stopped while all are idle, with the clock standing still: no slot comes due meanwhile.
            try await waitUntil("every node idle") {
                guard clock.sleepers == 6 else { return false }
                return try await count("running") == 0
            }
            for node in nodes { try await node.stop() }
            let recorded = try await heartbeats(databases[0])
            let runs = try await databases[0].query("SELECT slot_key, slot_at, state, fencing_token, takeovers FROM job_runs WHERE job = 'heartbeat' ORDER BY slot_at")
            #expect(runs.count >= 8, "at least the eight slots waited for, got \(runs.count)")
            let described = try runs.map { "\(try $0.string("slot_key")) \(try $0.string("state")) token \(try $0.int("fencing_token")) takeovers \(try $0.int("takeovers"))" }
            #expect(try runs.allSatisfy { try $0.string("state") == "succeeded" && $0.int("fencing_token") == 1 && $0.int("takeovers") == 0 }, "\(described)")
            // Every slot recorded exactly once, by its holder.
            #expect(Set(recorded.keys) == Set(try runs.map { try $0.string("slot_key") }), "recorded \(recorded.keys.sorted()); runs \(described)")
            #expect(recorded.values.allSatisfy { $0.count == 1 && $0[0].token == 1 }, "each slot once: \(recorded.filter { $0.value.count != 1 })")
            // No gaps between the first and the last slot.
            let millis = try runs.map { SlotTime.millisNearest(try $0.date("slot_at")) }
            #expect(zip(millis, millis.dropFirst()).allSatisfy { $1 - $0 == 200 })
        }
    }

    /// A "node" claims a slot and dies (never renews): once the lease has passed on the clock,
    /// and not before, another node takes the slot over with token 2 and finishes it.
    @Test(arguments: EngineKind.allCases)
    func aDeadHoldersSlotIsTakenOverAfterTheLease(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 2) { databases in
            let clock = ManualClock(offSlot)
            let job = HeartbeatJob.definition(interval: .seconds(3600))
            let store = JobStore(database: databases[0])
            try await store.publish([job], node: "dead", now: clock.now())
            let key = try await store.requestRun(job: job.name, requestedBy: "test", now: clock.now())
            let claimedAt = clock.now()
            guard case .claimed(let dead) = try await store.claimNext(job.rules, node: "dead", claimID: UUID(), now: claimedAt, lease: .seconds(1)) else {
                throw TestFailure("the dead node did not claim")
            }
            #expect(dead.slotKey == key)
            // The dead node's lease is 1 s; the survivor's own is long, so it keeps the slot it took
            // over however slowly the machine runs the body.
            let survivor = RunningScheduler([job], database: databases[1], node: "survivor", settings: Self.fastLongLease, clock: clock)
            // The survivor waits on the clock with its poll and its slot timer.
            let resting: @Sendable () async -> Bool = { clock.sleepers == 2 }
            let early = await clock.drive(by: .milliseconds(100), limit: .milliseconds(900), ready: resting) {
                (try? await store.run(job: job.name, slotKey: key))?.holder != "dead"
            }
            #expect(!early, "the slot was taken over within its lease")
            // Once the survivor holds the slot the clock stands still: the run needs no more of it.
            let finished = await clock.drive(by: .milliseconds(100), limit: .seconds(5), ready: {
                guard await resting() else { return false }
                return (try? await store.run(job: job.name, slotKey: key))?.holder == "dead"
            }) {
                (try? await store.run(job: job.name, slotKey: key))?.state == "succeeded"
            }
            try await survivor.stop(driving: clock)
            #expect(finished)
            let run = try #require(try await store.run(job: job.name, slotKey: key))
            #expect(run.holder == "survivor" && run.fencingToken == 2 && run.takeovers == 1)
            // Taken over at the first poll after the lease ran out (polls are 100 ms apart).
            let after = try #require(run.startedAt).timeIntervalSince(claimedAt)
            #expect(after > 0.999 && after < 1.25, "taken over \(after) s after the claim")
            #expect(try await heartbeats(databases[0])[key]?.map(\.token) == [2])
            // The dead holder's late write is refused.
            let late = JobContext(claim: dead, node: "dead", clock: clock, logger: Logger(label: "test"), database: databases[0])
            await #expect(throws: JobError.self) { try await late.fencedTransaction { db in try await db.query("SELECT 1 AS one") } }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func gracefulShutdownHandsARunningSlotBackInsteadOfLettingItExpire(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 2) { databases in
            let clock = ManualClock(offSlot)
            let started = Mutex<[String]>([])
            // The body waits (on the clock, for an hour) until it is cancelled.
            let job = JobDefinition("long", schedule: try .cron("0 0 1 1 *"), timeout: .seconds(7200)) { context in
                started.withLock { $0.append(context.node) }
                try await clock.sleep(for: .seconds(3600))
            }
            // A 600 s lease: a takeover within 60 s of the clock can only come from the hand-back.
            let settings = SchedulerSettings(lease: .seconds(600), pollInterval: .milliseconds(100), shutdownGrace: .milliseconds(300))
            let a = RunningScheduler([job], database: databases[0], node: "a", settings: settings, clock: clock)
            let store = JobStore(database: databases[0])
            try await waitUntil("the job is published") { (try? await store.jobs(now: clock.now()))?.isEmpty == false }
            let key = try await store.requestRun(job: "long", requestedBy: "test", now: clock.now())
            // Held by a, and its body running: asleep on the clock (a body Task can start long after
            // the claim on a loaded machine, and a stop before it starts would hand back a body
            // that never ran).
            let held = await clock.drive(by: .milliseconds(100), limit: .seconds(10)) { (try? await store.run(job: "long", slotKey: key))?.holder == "a" }
            #expect(held)
            try await waitUntil("a's body is asleep on the clock") { clock.isSleeping(for: .seconds(3600)) }
            let b = RunningScheduler([job], database: databases[1], node: "b", settings: settings, clock: clock)
            try await a.stop(driving: clock)
            let takenOver = await clock.drive(by: .milliseconds(100), limit: .seconds(60)) {
                (try? await store.run(job: "long", slotKey: key))?.holder == "b" && started.withLock { $0 } == ["a", "b"]
            }
            #expect(takenOver, "\(started.withLock { $0 })")
            let run = try #require(try await store.run(job: "long", slotKey: key))
            #expect(run.state == "running" && run.fencingToken == 2 && run.takeovers == 0)
            await b.cancel()
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aRunningJobFinishesWithinTheShutdownGrace(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let job = JobDefinition("short", schedule: try .cron("0 0 1 1 *")) { _ in try await clock.sleep(for: .milliseconds(800)) }
            // The body is the clock's only 800 ms sleeper (the poll sleeps 100 ms, the runner's
            // timers a lease or grace plus 1 ms).
            let bodyAsleep: @Sendable () -> Bool = { clock.isSleeping(for: .milliseconds(800)) }
            let settings = SchedulerSettings(lease: .seconds(30), pollInterval: .milliseconds(100), shutdownGrace: .seconds(10))
            let node = RunningScheduler([job], database: databases[0], node: "a", settings: settings, clock: clock)
            let store = JobStore(database: databases[0])
            try await waitUntil("the job is published") { (try? await store.jobs(now: clock.now()))?.isEmpty == false }
            let key = try await store.requestRun(job: "short", requestedBy: "test", now: clock.now())
            let running = await clock.drive(by: .milliseconds(100), limit: .seconds(10)) { (try? await store.run(job: "short", slotKey: key))?.state == "running" }
            #expect(running)
            // Stopped once the body sleeps on the clock, which then moves only while it sleeps:
            // its 800 ms pass within the grace, and the clock stands still while the run is
            // recorded, however long the machine takes to start the body or write the outcome.
            try await waitUntil("the body is asleep on the clock") { bodyAsleep() }
            try await node.stop(driving: clock, ready: bodyAsleep)
            let run = try #require(try await store.run(job: "short", slotKey: key))
            #expect(run.state == "succeeded" && run.holder == "a" && run.fencingToken == 1, "\(run)")
            // It ran its 800 ms on the clock, well within the 10 s grace.
            let duration = try #require(run.duration)
            #expect(duration >= .milliseconds(800) && duration < .seconds(2), "\(duration)")
        }
    }

    /// The runner's timers are on the injected clock: a job's 60 s timeout passes when the test
    /// moves the clock by 61 s, not after a minute of real time (the suite's limit is shorter).
    @Test(.timeLimit(.minutes(1)), arguments: EngineKind.allCases)
    func aJobTimesOutWhenTheInjectedClockSaysSo(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            // The body waits (on the clock, for a day) until it is cancelled.
            let job = JobDefinition("hangs", schedule: try .cron("0 0 1 1 *"), timeout: .seconds(60)) { _ in
                try await clock.sleep(for: .seconds(86_400))
            }
            let settings = SchedulerSettings(lease: .seconds(600), pollInterval: .milliseconds(100), shutdownGrace: .milliseconds(300), cancelGrace: .milliseconds(300))
            let node = RunningScheduler([job], database: databases[0], node: "a", settings: settings, clock: clock)
            let store = JobStore(database: databases[0])
            try await waitUntil("the job is published") { (try? await store.jobs(now: clock.now()))?.isEmpty == false }
            let key = try await store.requestRun(job: "hangs", requestedBy: "test", now: clock.now())
            // The poll finds the manual run once the clock moves a poll interval.
            let running = await clock.drive(by: .milliseconds(100), limit: .seconds(1)) { (try? await store.run(job: "hangs", slotKey: key))?.state == "running" }
            #expect(running)
            // The body, the runner's timer and the poll loop sleep on the clock until the test moves it.
            try await waitUntil("three sleepers, saw \(clock.sleepers)") { clock.sleepers == 3 }
            clock.advance(by: 30)
            // Only the poll was due: it looks and sleeps again; the body is still running.
            try await waitUntil("three sleepers again, saw \(clock.sleepers)") { clock.sleepers == 3 }
            #expect(try await store.run(job: "hangs", slotKey: key)?.state == "running")
            clock.advance(by: 31)
            try await waitUntil("the run timed out") { (try? await store.run(job: "hangs", slotKey: key))?.state == "timed_out" }
            try await node.stop(driving: clock)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func failuresAndTimeoutsAreRecorded(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            struct Broken: Error, CustomStringConvertible { var description: String { "the gateway said no" } }
            let clock = ManualClock(offSlot)
            let never = try Schedule.cron("0 0 1 1 *")
            let jobs = [
                JobDefinition("fails", schedule: never) { _ in throw Broken() },
                JobDefinition("slow", schedule: never, timeout: .milliseconds(300)) { _ in try await clock.sleep(for: .seconds(20)) },
            ]
            let node = RunningScheduler(jobs, database: databases[0], node: "a", settings: Self.fastLongLease, clock: clock)
            let store = JobStore(database: databases[0])
            try await waitUntil("both jobs are published") { (try? await store.jobs(now: clock.now()))?.count == 2 }
            let failing = try await store.requestRun(job: "fails", requestedBy: "test", now: clock.now())
            let slow = try await store.requestRun(job: "slow", requestedBy: "test", now: clock.now())
            // A give-up bound well inside the 600 s lease: how much clock a slow machine burns
            // before the bodies run is not what this test is about.
            let finished = await clock.drive(by: .milliseconds(100), limit: .seconds(300)) {
                let a = try? await store.run(job: "fails", slotKey: failing)
                let b = try? await store.run(job: "slow", slotKey: slow)
                return a?.isFinished == true && b?.isFinished == true
            }
            #expect(finished)
            try await node.stop(driving: clock)
            let a = try #require(try await store.run(job: "fails", slotKey: failing))
            #expect(a.state == "failed" && a.error == "the gateway said no")
            let b = try #require(try await store.run(job: "slow", slotKey: slow))
            #expect(b.state == "timed_out")
        }
    }

    @Test(arguments: EngineKind.allCases)
    func theSessionCleanupJobDeletesExpiredSessions(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let clock = ManualClock(offSlot)
            let sessions = SessionRecordRepository(database: databases[0])
            let now = clock.now()
            try await sessions.insert(idHash: "expired", data: "{}", expiresAt: now.addingTimeInterval(-60), now: now)
            try await sessions.insert(idHash: "live", data: "{}", expiresAt: now.addingTimeInterval(3600), now: now)
            let node = RunningScheduler([SessionCleanupJob.definition(database: databases[0], interval: .milliseconds(200))], database: databases[0], node: "a", settings: Self.fastLongLease, clock: clock)
            // A give-up bound well inside the live session's hour and the 600 s lease.
            let cleaned = await clock.drive(by: .milliseconds(100), limit: .seconds(300)) { (try? await sessions.lastWrite(idHash: "expired")) == nil }
            // The delete is visible before its run is recorded: wait for the record too, or the
            // stop can land between them and hand that run back.
            let store = JobStore(database: databases[0])
            let recorded = await clock.drive(by: .milliseconds(100), limit: .seconds(300)) {
                (try? await store.history(job: SessionCleanupJob.name))?.contains { $0.state == "succeeded" && $0.holder == "a" } == true
            }
            try await node.stop(driving: clock)
            #expect(cleaned)
            #expect(recorded, "no cleanup run was recorded as succeeded")
            #expect(try await sessions.find(idHash: "live", now: clock.now()) != nil)
            let runs = try await store.history(job: SessionCleanupJob.name)
            // A run still going when the node stopped is handed back, not failed.
            #expect(runs.allSatisfy { $0.state != "failed" && $0.state != "timed_out" }, "\(runs.map(\.state))")
        }
    }
}
