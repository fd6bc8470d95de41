import Foundation
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// One real node on SQLite (the zero-setup default): the same guarantees as a cluster, plus the
/// staff page, the JSON API, the CLI and metrics.
@Suite(.serialized) struct SingleNodeJobsLiveTests {
    static let password = "correct horse battery"

    struct Setup {
        let directory: URL
        var path: String { directory.appendingPathComponent("jobs.sqlite").path }
        var url: String { "sqlite://" + path }
        init() throws { directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-jobs-live") }
    }

    /// Heartbeat slots (seconds since 1970) → how many records each, and the run rows.
    static func heartbeats(_ path: String) async throws -> (counts: [Int64: Int], tokens: [Int64: [Int64]], lags: [Int64: Double]) {
        try await LiveJobs.withSQLite(path) { db in
            var counts: [Int64: Int] = [:]
            var tokens: [Int64: [Int64]] = [:]
            for row in try await db.query("SELECT slot_at, fencing_token FROM job_heartbeats WHERE job = 'heartbeat'") {
                let slot = Int64(try row.date("slot_at").timeIntervalSince1970.rounded())
                counts[slot, default: 0] += 1
                tokens[slot, default: []].append(try row.int("fencing_token"))
            }
            var lags: [Int64: Double] = [:]
            for row in try await db.query("SELECT slot_at, started_at FROM job_runs WHERE job = 'heartbeat' AND kind = 'scheduled'") {
                let slot = try row.date("slot_at")
                lags[Int64(slot.timeIntervalSince1970.rounded())] = try row.date("started_at").timeIntervalSince(slot)
            }
            return (counts, tokens, lags)
        }
    }

    /// A heartbeat run that is running now: (slot key, holder).
    static func runningHeartbeat(_ path: String) async throws -> (String, String)? {
        try await LiveJobs.withSQLite(path) { db in
            try await db.first("SELECT slot_key, holder FROM job_runs WHERE job = 'heartbeat' AND state = 'running'").map {
                (try $0.string("slot_key"), try $0.string("holder"))
            }
        }
    }

    static func run(_ path: String, _ key: String) async throws -> (state: String, holder: String, token: Int64, takeovers: Int64)? {
        try await LiveJobs.withSQLite(path) { db in
            try await db.first("SELECT state, holder, fencing_token, takeovers FROM job_runs WHERE job = 'heartbeat' AND slot_key = \(key)").map {
                (try $0.string("state"), try $0.string("holder"), try $0.int("fencing_token"), try $0.int("takeovers"))
            }
        }
    }

    @Test func everySlotOnceAndMissedSlotsCaughtUpAfterARestart() async throws {
        let setup = try Setup()
        let arguments = LiveJobs.fastScheduler + ["--set", "jobs.heartbeat.interval=1s"]
        let first = try await SteadfastNode.start(name: "solo", database: setup.url, arguments: arguments, workingDirectory: setup.directory)
        try await waitUntil("the first node recorded 14 slots", timeout: .seconds(60), interval: .milliseconds(500)) {
            try await Self.heartbeats(setup.path).counts.count >= 14
        }
        #expect(try await first.stop() == 0)
        let beforeGap = try await Self.heartbeats(setup.path).counts.keys.max() ?? 0
        // Down for a while: slots pass with nobody running. Real time is the behaviour under
        // test: the node schedules on the wall clock, and slots must pass while no node runs.
        try await Task.sleep(for: .seconds(6))
        let second = try await SteadfastNode.start(name: "solo-again", database: setup.url, arguments: arguments, workingDirectory: setup.directory)
        let restarted = Int64(Date().timeIntervalSince1970.rounded(.up))
        // Until the restarted node has caught up (no slot missing) and runs on time again.
        var missing: [Int64] = []
        try await waitUntil("the restarted node caught up and ran 3 slots on time (missing: \(missing))", timeout: .seconds(60), interval: .milliseconds(500)) {
            let slots = Set(try await Self.heartbeats(setup.path).counts.keys)
            guard let low = slots.min(), let high = slots.max() else { return false }
            missing = Set(low...high).subtracting(slots).sorted()
            return missing.isEmpty && slots.filter { $0 >= restarted }.count >= 3
        }
        #expect(try await second.stop() == 0)

        let (counts, tokens, lags) = try await Self.heartbeats(setup.path)
        let slots = counts.keys.sorted()
        let firstSlot = try #require(slots.first)
        let lastSlot = try #require(slots.last)
        #expect(slots.count >= 20, "about 27 slots expected, got \(slots.count)")
        #expect(counts.values.allSatisfy { $0 == 1 }, "slots recorded more than once: \(counts.filter { $0.value > 1 })")
        // One holder recorded each slot (a starved node's lapsed lease may make that a takeover, token 2).
        #expect(tokens.values.allSatisfy { $0.count == 1 })
        #expect(slots == Array(firstSlot...lastSlot), "missing slots: \(Set(firstSlot...lastSlot).subtracting(slots).sorted())")
        // The slots of the gap ran late, after the restart (run_all).
        let caughtUp = lags.filter { $0.key > beforeGap && $0.value > 1 }
        #expect(caughtUp.count >= 4, "gap slots run late: \(caughtUp.count)")
    }

    @Test func aKilledNodesSlotIsFinishedAfterTheLeaseWhenItComesBack() async throws {
        let setup = try Setup()
        let arguments = LiveJobs.fastScheduler + ["--set", "jobs.heartbeat.interval=60s", "--set", "jobs.heartbeat.duration=4s"]
        let first = try await SteadfastNode.start(name: "doomed", database: setup.url, arguments: arguments, workingDirectory: setup.directory)
        defer { first.process.send(SIGCONT); first.process.send(SIGKILL) }
        // Killed while still running its slot: the node is frozen (SIGSTOP) before each look, so
        // it cannot finish the slot between the look and the kill, however slow the look.
        var running: (String, String)?
        #expect(await eventually(timeout: .seconds(30)) {
            first.process.send(SIGSTOP)
            running = try? await Self.runningHeartbeat(setup.path)
            if running == nil { first.process.send(SIGCONT) }
            return running != nil
        })
        let (key, holder) = try #require(running)
        #expect(holder == "doomed")
        await first.process.kill9()
        let second = try await SteadfastNode.start(name: "reborn", database: setup.url, arguments: arguments, workingDirectory: setup.directory)
        defer { second.process.send(SIGKILL) }
        #expect(await eventually(timeout: .seconds(30)) { (try? await Self.run(setup.path, key))?.state == "succeeded" })
        let run = try #require(try await Self.run(setup.path, key))
        #expect(run.holder == "reborn" && run.token == 2 && run.takeovers == 1)
        let records = try await LiveJobs.withSQLite(setup.path) { db in
            try await db.query("SELECT node, fencing_token FROM job_heartbeats WHERE slot_key = \(key)").map { "\(try $0.string("node")):\(try $0.int("fencing_token"))" }
        }
        #expect(records == ["reborn:2"])
    }

    @Test func aStoppingNodeHandsItsRunningSlotBack() async throws {
        let setup = try Setup()
        // A 60 s lease: the restarted node can only take the slot at once because it was handed back.
        // The heartbeat works 15 s, longer than the shutdown grace plus the 5 s a cancelled body
        // gets, so it is still running when its node hands the slot back.
        let arguments = [
            "--set", "jobs.lease=60s", "--set", "jobs.poll_interval=200ms", "--set", "jobs.shutdown_grace=500ms",
            "--set", "jobs.heartbeat.interval=60s", "--set", "jobs.heartbeat.duration=15s",
        ]
        let first = try await SteadfastNode.start(name: "leaving", database: setup.url, arguments: arguments, workingDirectory: setup.directory)
        var running: (String, String)?
        #expect(await eventually(timeout: .seconds(30)) { running = try? await Self.runningHeartbeat(setup.path); return running != nil })
        let (key, _) = try #require(running)
        #expect(try await first.stop() == 0)
        #expect(try await Self.run(setup.path, key)?.state == "released")
        #expect(first.process.stderr.contains("handed the slot back"))
        let second = try await SteadfastNode.start(name: "arriving", database: setup.url, arguments: arguments, workingDirectory: setup.directory)
        defer { second.process.send(SIGKILL) }
        #expect(await eventually(timeout: .seconds(20)) { (try? await Self.run(setup.path, key))?.holder == "arriving" })
        let run = try #require(try await Self.run(setup.path, key))
        #expect(run.state == "running" && run.token == 2 && run.takeovers == 0)
    }

    @Test func staffSeeAndRunJobsOnThePageTheAPIAndTheCLI() async throws {
        let setup = try Setup()
        let node = try await SteadfastNode.start(name: "ops", database: setup.url, arguments: LiveJobs.fastScheduler + [
            "--set", "jobs.heartbeat.interval=1s", "--admin-email", "ops@example.com", "--admin-password", Self.password,
        ], workingDirectory: setup.directory)
        defer { node.process.send(SIGKILL) }

        // Visitors are sent to log in; clients are refused.
        #expect(try await node.client().get("/admin/jobs").header("Location") == "/login")
        let client = node.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "c@example.com", "password": Self.password, "name": "C"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": "c@example.com", "password": Self.password]).status == 200)
        #expect(try await client.get("/admin/jobs").status == 403)
        #expect(try await client.get("/api/v1/admin/jobs").status == 403)

        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "ops@example.com", "password": Self.password]).status == 200)
        #expect(await eventually(timeout: .seconds(15)) {
            (try? await staff.get("/admin/jobs").body.contains("succeeded")) == true
        })
        let page = try await staff.get("/admin/jobs")
        #expect(page.status == 200)
        for text in ["heartbeat", "session-cleanup", "jobs-history-prune", "every 1s", "Run now", ">ops<"] {
            #expect(page.body.contains(text), "the jobs page shows \(text)")
        }
        let token = try #require(LiveJobs.csrfToken(in: page.body))
        #expect(try await staff.postForm("/admin/jobs/session-cleanup/run", [:]).status == 403, "CSRF-protected")
        let queued = try await staff.postForm("/admin/jobs/session-cleanup/run", ["_csrf": token])
        #expect(queued.status == 303)
        let location = try #require(queued.header("Location"))
        #expect(location == "/admin/jobs/session-cleanup")
        // The notice is a flash in the session: shown once, on the page after the redirect.
        #expect(try await staff.get(location).body.contains("Queued a manual run of session-cleanup (manual:"))
        #expect(try await !staff.get(location).body.contains("Queued a manual run"))
        #expect(await eventually(timeout: .seconds(15)) {
            let runs = (try? await staff.get("/api/v1/admin/jobs/session-cleanup/runs").json["runs"]) as? [[String: Any]] ?? []
            return runs.contains { $0["kind"] as? String == "manual" && $0["state"] as? String == "succeeded" && $0["requested_by"] as? String == "ops@example.com" }
        })
        #expect(try await staff.postForm("/admin/jobs/nope/run", ["_csrf": token]).status == 404)

        // JSON.
        let listing = try await staff.get("/api/v1/admin/jobs")
        let names = (listing.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names == ["billing", "billing-capture", "heartbeat", "jobs-history-prune", "mail-delivery", "session-cleanup", "storage-migrations", "support-auto-close", "support-uploads-expiry"])
        let heartbeat = (listing.json["jobs"] as? [[String: Any]])?.first { $0["name"] as? String == "heartbeat" }
        #expect(((heartbeat?["last_finished"] as? [String: Any])?["node"]) as? String == "ops")
        #expect(heartbeat?["next_run_at"] as? String != nil)
        // Sorted, filtered and paged like every staff list (docs/jobs.md): the API and the page.
        let lastTwo = try await staff.get("/api/v1/admin/jobs?sort=name&dir=desc&limit=2&offset=1")
        #expect((lastTwo.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["support-auto-close", "storage-migrations"])
        #expect(lastTwo.json["limit"] as? Int == 2 && lastTwo.json["offset"] as? Int == 1 && lastTwo.json["node"] as? String == "ops")
        // The outcome filter: the manual session-cleanup run above succeeded; a job that has run
        // is never "never" again (asked in this order, no job can be in both).
        func jobNames(_ query: String) async throws -> [String] {
            (try await staff.get("/api/v1/admin/jobs?\(query)").json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        let succeeded = try await jobNames("state=ok&sort=outcome")
        let never = try await jobNames("state=never")
        #expect(succeeded.contains("session-cleanup") && !never.contains("session-cleanup") && Set(succeeded).isDisjoint(with: never), "\(succeeded) \(never)")
        for (query, parameter) in [("state=lost", "state"), ("sort=schedule", "sort"), ("sort=name&dir=up", "dir")] {
            let refused = try await staff.get("/api/v1/admin/jobs?\(query)")
            #expect(refused.status == 400 && refused.body.contains(parameter), "\(query): \(refused.status)")
            #expect(try await staff.get("/admin/jobs?\(query)").status == 400, "\(query)")
        }
        let byOutcome = try await staff.get("/admin/jobs?sort=outcome&dir=desc&limit=1")
        #expect(byOutcome.status == 200 && byOutcome.body.contains("aria-sort=\"descending\""))
        #expect(byOutcome.body.contains("href=\"/admin/jobs?dir=desc&amp;sort=outcome&amp;offset=1&amp;limit=1\" rel=\"next\""), "the next page keeps the order")
        #expect(try await staff.get("/admin/jobs?state=ok").body.contains("href=\"/admin/jobs/session-cleanup\""))
        #expect(try await !staff.get("/admin/jobs?state=failing").body.contains("href=\"/admin/jobs/session-cleanup\""))
        let accepted = try await staff.postJSON("/api/v1/admin/jobs/heartbeat/run", [:])
        #expect(accepted.status == 202 && (accepted.json["slot_key"] as? String)?.hasPrefix("manual:") == true)
        #expect(try await staff.postJSON("/api/v1/admin/jobs/nope/run", [:]).status == 404)

        // The CLI reads the same database.
        let list = try await LiveJobs.command(["jobs", "list", "--database", setup.url], directory: setup.directory)
        #expect(list.status == 0)
        for text in ["JOB", "heartbeat", "every 1s", "run_all:100", "session-cleanup", "every 5m", "ops", "succeeded"] {
            #expect(list.stdout.contains(text), "jobs list shows \(text):\n\(list.stdout)")
        }
        #expect(await eventually(timeout: .seconds(15)) {
            ((try? await staff.get("/api/v1/admin/jobs/heartbeat/runs").json["runs"]) as? [[String: Any]] ?? []).count >= 3
        })
        let history = try await LiveJobs.command(["jobs", "history", "heartbeat", "--limit", "3", "--database", setup.url], directory: setup.directory)
        #expect(history.status == 0 && history.stdout.split(separator: "\n").count == 4)
        let run = try await LiveJobs.command(["jobs", "run", "session-cleanup", "--database", setup.url], directory: setup.directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("queued session-cleanup manual:") && run.stdout.contains("succeeded on ops"))
        let unknown = try await LiveJobs.command(["jobs", "run", "nope", "--database", setup.url], directory: setup.directory)
        #expect(unknown.status == 2 && unknown.stderr.contains("known jobs: billing, billing-capture, heartbeat, jobs-history-prune, mail-delivery, session-cleanup, storage-migrations, support-auto-close, support-uploads-expiry"))

        // Metrics.
        #expect(try await LiveJobs.metric(node, #"steadfast_job_runs_total{job="heartbeat",outcome="succeeded"}"#) >= 1)
        let metrics = try await node.client().get("/metrics").body
        #expect(metrics.contains("steadfast_job_lag_seconds") && metrics.contains("steadfast_job_duration_seconds"))
    }
}
