import Foundation
import SteadfastTestSupport
import Testing

/// The scheduler through a PostgreSQL failover: three real nodes on a primary and a synchronous
/// standby; the primary is killed (kill -9 with its backends) and the standby promoted, with no
/// node restarted.
@Suite(.serialized) struct FailoverJobsLiveTests {
    @Test func everySlotRunsExactlyOnceThroughAPrimaryFailover() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let database = try await set.createDatabase(prefix: "jobsha")
        let nodes = try await LiveJobs.start(["ha-a", "ha-b", "ha-c"], database: set.url(database: database), arguments: LiveJobs.fastScheduler + [
            "--set", "jobs.heartbeat.interval=1s",
        ])
        defer { for node in nodes.values { node.process.send(SIGKILL) } }
        try await waitUntil("3 slots are recorded before the kill", timeout: .seconds(30), interval: .milliseconds(500)) {
            Int((try? await set.servers[0].psql("SELECT count(*) FROM job_heartbeats", database: database)) ?? "") ?? 0 >= 3
        }

        await set.servers[0].killHard()
        let killedAt = Date()
        // The outage lasts until every node has noticed the primary is gone.
        for node in nodes.values { try await node.waitUntilNoPrimary() }
        try await set.servers[1].promote()
        let promoted = set.servers[1]
        func psql(_ sql: String) async throws -> [[String]] {
            try await promoted.psql(sql, database: database).split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        }
        // Slots keep being recorded after the promotion...
        let resumed = await eventually(timeout: .seconds(30)) {
            let count = try? await psql("SELECT count(*) FROM job_heartbeats WHERE slot_at > to_timestamp(\(killedAt.timeIntervalSince1970 + 5))")
            return Int(count?.first?.first ?? "0") ?? 0 >= 3
        }
        #expect(resumed, "the scheduler did not resume after the failover")
        // ...and the slots of the outage are caught up.
        var missing: [Int64] = []
        try await waitUntil("no slot is missing (missing: \(missing))", timeout: .seconds(30), interval: .milliseconds(500)) {
            let slots = Set(try await psql("SELECT extract(epoch FROM slot_at)::bigint FROM job_heartbeats WHERE job = 'heartbeat'").map { Int64($0[0])! })
            guard let low = slots.min(), let high = slots.max() else { return false }
            missing = Set(low...high).subtracting(slots).sorted()
            return missing.isEmpty
        }
        #expect(nodes.values.allSatisfy { $0.process.isRunning }, "no node was restarted")
        #expect(try await LiveJobs.stopAll(nodes.values) == [0, 0, 0])

        // ...and every slot, before, during and after the failover, ran exactly once.
        var counts: [Int64: Int] = [:]
        for row in try await psql("SELECT extract(epoch FROM slot_at)::bigint FROM job_heartbeats WHERE job = 'heartbeat'") {
            counts[Int64(row[0])!, default: 0] += 1
        }
        let slots = counts.keys.sorted()
        let first = try #require(slots.first)
        let last = try #require(slots.last)
        #expect(counts.values.allSatisfy { $0 == 1 }, "slots recorded twice: \(counts.filter { $0.value > 1 }.keys.sorted())")
        #expect(slots == Array(first...last), "slots missing: \(Set(first...last).subtracting(slots).sorted())")
        let runs = try await psql("SELECT state, count(*), sum(takeovers), max(fencing_token) FROM job_runs WHERE job = 'heartbeat' GROUP BY state")
        // At most one run, going when the last node stopped, was handed back unfinished.
        let succeeded = runs.first { $0[0] == "succeeded" }
        #expect(runs.allSatisfy { $0[0] == "succeeded" || ($0[0] == "released" && $0[1] == "1") }, "runs: \(runs)")
        #expect(Int(succeeded?[1] ?? "") == slots.count)
        let late = try await psql("SELECT count(*) FROM job_runs WHERE job = 'heartbeat' AND started_at - slot_at > interval '1 second'")
        print("failover: \(slots.count) slots, each once; runs started over 1 s late (the outage, caught up): \(late.first?.first ?? "?"); takeovers: \(succeeded?[2] ?? "?"), highest fencing token: \(succeeded?[3] ?? "?")")
    }
}
