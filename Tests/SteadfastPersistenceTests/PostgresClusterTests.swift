import Foundation
import Logging
@testable import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The primary-following client against a real primary and streaming standby.
@Suite(.serialized) struct PostgresClusterTests {
    static func withCluster<T: Sendable>(
        _ set: PostgresReplicaSet, database: String, monitorInterval: Duration = .seconds(1), requestTimeout: Duration = .seconds(10),
        _ body: @Sendable (PostgresCluster) async throws -> T
    ) async throws -> T {
        guard case .postgres(let target) = try DatabaseURL(set.url(database: database)) else { throw HarnessError("not postgres") }
        let cluster = PostgresCluster(target: target, maximumConnections: 5, requestTimeout: requestTimeout, monitorInterval: monitorInterval, logger: Logger(label: "test"))
        let run = Task { try await cluster.run() }
        defer { run.cancel() }
        return try await body(cluster)
    }

    @Test func findsThePrimaryAndReportsRolesAndLag() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let name = try await set.createDatabase()
        try await Self.withCluster(set, database: name) { cluster in
            try await cluster.query("CREATE TABLE t (v INTEGER)")
            try await cluster.query("INSERT INTO t (v) VALUES (1)")
            #expect(cluster.canWrite)
            // The write needed only the primary's role; the standby's comes from the monitor's
            // probe of it, which on a busy machine may answer a moment later.
            let probed = await eventually(timeout: .seconds(10)) { await cluster.hostStatuses().map(\.role) == ["primary", "standby"] }
            #expect(probed)
            let statuses = await cluster.hostStatuses()
            #expect(statuses[1].lagSeconds != nil && statuses.allSatisfy(\.readable))
            // Synchronous replication (`synchronous_commit = on`) means the standby has flushed
            // the acknowledged row; replaying it, and so showing it to a query, may take a moment
            // longer on a busy machine.
            let replayed = await eventually(timeout: .seconds(10)) { (try? await set.servers[1].psql("SELECT count(*) FROM t", database: name)) == "1" }
            #expect(replayed)
        }
    }

    /// The 25006 trap: the client believes a standby is the primary (as after a switchover it
    /// has not noticed). The write is refused read-only, the host's pool is dropped, roles are
    /// re-probed and the write is retried — once — on the real primary.
    @Test func aWriteRefusedAsReadOnlyIsRetriedOnTheRealPrimary() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let name = try await set.createDatabase()
        try await Self.withCluster(set, database: name, monitorInterval: .seconds(3600)) { cluster in
            try await cluster.query("CREATE TABLE t (v INTEGER)")
            let replicated = await eventually { (try? await set.servers[1].psql("SELECT count(*) FROM t", database: name)) == "0" }
            #expect(replicated)
            // Mislead the router: the standby "is" the primary on a newer timeline.
            cluster.record(.primary(timeline: 99), for: 1)
            try await cluster.transaction { tx in
                try await tx.query("INSERT INTO t (v) VALUES (42)")
            }
            #expect(try await set.servers[0].psql("SELECT count(*) FROM t WHERE v = 42", database: name) == "1")
            // The refusal triggered a probe, which puts the roles right.
            #expect(await eventually { await cluster.hostStatuses().map(\.role) == ["primary", "standby"] })
        }
    }

    @Test func survivesAKilledPrimaryAndAPromotion() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let name = try await set.createDatabase()
        try await Self.withCluster(set, database: name) { cluster in
            try await cluster.query("CREATE TABLE t (v INTEGER PRIMARY KEY)")
            for v in 1...20 { try await cluster.query("INSERT INTO t (v) VALUES (\(v))") }
            await set.servers[0].killHard()
            // No primary: reads are answered by the standby, writes fail within the bound.
            let read = try await cluster.read("SELECT count(*) AS n FROM t")
            #expect(try read.first?.int("n") == 20)
            #expect(await eventually { !cluster.canWrite })
            try await set.servers[1].promote()
            try await cluster.query("INSERT INTO t (v) VALUES (21)")
            #expect(try await set.servers[1].psql("SELECT count(*) FROM t", database: name) == "21")
            #expect((await cluster.hostStatuses()).map(\.role) == ["unreachable", "primary"])
        }
    }

    @Test func aTransactionCutBeforeCommitIsRetried() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let name = try await set.createDatabase()
        // The request's time is only a give-up bound here: the statement below waits for the kill.
        try await Self.withCluster(set, database: name, requestTimeout: .seconds(90)) { cluster in
            try await cluster.query("CREATE TABLE t (v INTEGER)")
            // The first attempt's backend is killed by another session while a statement runs,
            // before COMMIT: nothing was committed (the server rolls back), so the work is
            // retried; attempts are counted to prove it ran again, and only once more. The
            // statement sleeps far longer than the kill can take, so it is still running when
            // the kill comes however slowly the machine spawns psql (a 5 s sleep could end and
            // commit first on a loaded machine, and the kill then found nothing to kill).
            let attempts = LockedBox(0)
            let primary = set.servers[0]
            try await cluster.transaction { tx in
                let attempt = attempts.with { $0 += 1; return $0 }
                try await tx.query("INSERT INTO t (v) VALUES (\(attempt))")
                if attempt == 1 {
                    let pid = try await tx.first("SELECT pg_backend_pid() AS pid")?.int("pid") ?? 0
                    // Killed once the server is running the statement.
                    async let killed: Void = {
                        try await waitUntil("backend \(pid) runs pg_sleep", timeout: .seconds(60), interval: .milliseconds(20)) {
                            try await primary.psql("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid) AND state = 'active' AND query LIKE '%pg_sleep%'") == "1"
                        }
                        _ = try await primary.psql("SELECT pg_terminate_backend(\(pid))")
                    }()
                    try await tx.query("SELECT pg_sleep(80)")
                    try await killed
                }
            }
            #expect(attempts.value == 2)
            #expect(try await set.servers[0].psql("SELECT string_agg(v::text, ',') FROM t", database: name) == "2")
        }
    }

    /// A primary that hangs instead of dying (connections stay open, nothing answers): the
    /// monitor's probe finds it unresponsive and gives it up, which abandons the read stuck
    /// there, and the standby answers the read well within the request's time.
    ///
    /// The promise (docs/ha-postgres.md): while a primary is known the monitor probes every
    /// `monitor_interval`, and a probe of a host that hangs times out after
    /// `min(monitor_interval, 1 s)`. So the hung primary is given up within interval + probe
    /// timeout of the freeze (2 s here), and the read, retried on the standby at once, ends soon
    /// after — long before the 15 s request timeout, which the read would reach if giving up on
    /// the host did not free it. The bound (5 s) sits between the two, with room for a machine
    /// whose cores are busy with something else.
    @Test func aReadStuckOnAHungPrimaryIsAnsweredByTheStandby() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.servers[0].thaw(); set.stopAll() }
        let name = try await set.createDatabase()
        let monitorInterval = Duration.seconds(1)
        let probeTimeout = min(monitorInterval, .seconds(1))
        // Scheduling on a busy machine, the standby's connection and the retried read.
        let allowance = Duration.seconds(3)
        try await Self.withCluster(set, database: name, monitorInterval: monitorInterval, requestTimeout: .seconds(15)) { cluster in
            try await cluster.query("CREATE TABLE t (v INTEGER)")
            try await cluster.query("INSERT INTO t (v) VALUES (7)")
            #expect(await eventually { (try? await set.servers[1].psql("SELECT count(*) FROM t", database: name)) == "1" })
            #expect(try await cluster.read("SELECT v FROM t").first?.int("v") == 7)  // on the primary

            set.servers[0].freeze()
            let clock = ContinuousClock()
            let started = clock.now
            let rows = try await cluster.read("SELECT v FROM t")
            #expect(try rows.first?.int("v") == 7)
            let took = clock.now - started
            print("a read on the hung primary was answered after \(took)")
            #expect(took < monitorInterval + probeTimeout + allowance, "the read on the hung primary took \(took)")
            #expect(await cluster.hostStatuses().map(\.role) == ["unreachable", "standby"])
        }
    }
}
