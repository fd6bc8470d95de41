import Foundation
import SteadfastTestSupport
import Testing

/// Two real nodes on a real primary + synchronous standby, under a steady write and read load,
/// while the primary dies, is switched over, or a standby restarts.
@Suite(.serialized) struct FailoverLiveTests {
    static let password = "correct horse battery"

    /// Starts two nodes on the replica set and a logged-in reader client per node.
    static func nodesAndReaders(_ set: PostgresReplicaSet, database: String) async throws -> ([SteadfastNode], [HTTPTestClient]) {
        let url = set.url(database: database)
        let a = try await SteadfastNode.start(name: "ha-a", database: url)
        let b = try await SteadfastNode.start(name: "ha-b", database: url)
        let reader = a.client()
        #expect(try await reader.postJSON("/api/v1/auth/register", ["email": "reader@example.com", "password": password, "name": "R"]).status == 201)
        #expect(try await reader.postJSON("/api/v1/auth/login", ["email": "reader@example.com", "password": password]).status == 200)
        return ([a, b], [reader, reader.pointed(at: b.baseURL)])
    }

    /// What the promise covers, checked against the database: every acknowledged registration is
    /// stored; so is every one a retry was told already exists (409), since that answer says an
    /// earlier, unacknowledged attempt committed; nothing is stored that the load was never told
    /// about; and no write was applied twice. Every write here has unique keys (the account id and
    /// e-mail), so a second application cannot leave a second row — the unique key stops the copy
    /// and the node answers 409. That shows on a first attempt: a new e-mail answered 409 at once
    /// was stored by the same request before, i.e. the node re-ran work that may have committed,
    /// which docs/ha-postgres.md ("Safe retry") says it never does for such work.
    static func verify(_ report: AccountLoad.Report, on server: PostgresServer, database: String) async throws {
        print("failover load: \(report.acknowledged.count) writes acknowledged, \(report.failedWriteAttempts) attempts failed and retried, \(report.conflictsOnRetry) retries found their write already committed, \(report.abandoned.count) abandoned, \(report.reads) reads, \(report.failedReads.count) failed")
        let stored = try await server.psql("SELECT email FROM accounts WHERE email LIKE '%-w%'", database: database)
            .split(separator: "\n").map(String.init)
        let storedSet = Set(stored)
        let acknowledged = Set(report.acknowledged)
        let confirmed = Set(report.confirmedByConflict)
        #expect(acknowledged.count == report.acknowledged.count, "an e-mail was acknowledged twice")
        #expect(acknowledged.isDisjoint(with: confirmed))
        let missing = acknowledged.subtracting(storedSet)
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.sorted().prefix(5))")
        let missingConfirmed = confirmed.subtracting(storedSet)
        #expect(missingConfirmed.isEmpty, "a retry was answered 409 (already exists) but the account is not stored: \(missingConfirmed.sorted().prefix(5))")
        let unaccounted = storedSet.subtracting(acknowledged).subtracting(confirmed).subtracting(report.abandoned)
        #expect(unaccounted.isEmpty, "stored, but the load never learnt of it: \(unaccounted.sorted().prefix(5))")
        #expect(report.conflictsOnFirstAttempt.isEmpty, "a new e-mail was answered 409 on its first attempt (the node applied the write twice): \(report.conflictsOnFirstAttempt.prefix(5))")
    }

    /// Waits until `count` writes were acknowledged after `since`, `what` saying when that is.
    static func waitForWrites(_ load: AccountLoad, _ count: Int, after since: ContinuousClock.Instant, _ what: String) async throws {
        func acknowledged() -> Int { load.snapshot.acknowledgedAt.filter { $0 > since }.count }
        try await waitUntil("\(count) writes are acknowledged \(what) (\(acknowledged()) were)", timeout: .seconds(30)) { acknowledged() >= count }
    }

    @Test func killingThePrimaryLosesNoAcknowledgedWriteAndReadsContinue() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let database = try await set.createDatabase()
        let (nodes, readers) = try await Self.nodesAndReaders(set, database: database)
        defer { for node in nodes { node.process.send(SIGKILL) } }
        let load = AccountLoad()
        let started = ContinuousClock.now
        load.start(nodes: nodes.map(\.baseURL), writers: 4, readers: readers)
        try await Self.waitForWrites(load, 10, after: started, "before the kill")
        let beforeKill = load.snapshot

        await set.servers[0].killHard()
        // The gap: both nodes notice the primary is gone, and reads go on meanwhile.
        for node in nodes { try await node.waitUntilNoPrimary() }
        try await waitUntil("reads are answered while the primary is down (\(load.snapshot.reads - beforeKill.reads) were)", timeout: .seconds(20)) {
            load.snapshot.reads >= beforeKill.reads + 10
        }
        try await set.servers[1].promote()
        try await Self.waitForWrites(load, 10, after: ContinuousClock.now, "after the promotion")
        let report = await load.stop()

        try await Self.verify(report, on: set.servers[1], database: database)
        #expect(report.failedReads.isEmpty, "reads failed during the failover: \(report.failedReads.prefix(5))")
        #expect(report.acknowledged.count > beforeKill.acknowledged.count)
        // No node was restarted.
        #expect(nodes.allSatisfy { $0.process.isRunning })
    }

    @Test func aSwitchoverIsFollowedWithoutLosingOrDuplicatingWrites() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let database = try await set.createDatabase()
        let (nodes, readers) = try await Self.nodesAndReaders(set, database: database)
        defer { for node in nodes { node.process.send(SIGKILL) } }
        let load = AccountLoad()
        let started = ContinuousClock.now
        load.start(nodes: nodes.map(\.baseURL), writers: 4, readers: readers)
        try await Self.waitForWrites(load, 10, after: started, "before the switchover")

        // Switchover: the old primary shuts down cleanly, the standby is promoted, and the old
        // primary comes back as a standby on the same address — where a client that trusted
        // its old connections would now meet "cannot execute ... in a read-only transaction".
        await set.servers[0].stopFast()
        try await set.servers[1].promote()
        try await set.servers[0].startAsStandby(of: set.servers[1], name: "pg0")
        try await set.waitUntilStreaming(standbys: 1, primary: set.servers[1])
        let switchedAt = ContinuousClock.now
        try await Self.waitForWrites(load, 10, after: switchedAt, "after the switchover")
        let report = await load.stop()
        try await Self.verify(report, on: set.servers[1], database: database)
        // Writes are acknowledged after the switchover: none is stuck on the demoted server.
        let acknowledgedAfterSwitch = report.acknowledgedAt.filter { $0 > switchedAt }.count
        #expect(acknowledgedAfterSwitch > 0)
        // Every node sees the old primary as a standby once its monitor has probed it since it
        // came back (within a monitor interval or so of the switchover, not at once).
        for node in nodes {
            try await waitUntil("\(node.baseURL)/readyz reports the roles [standby, primary]", timeout: .seconds(20)) {
                let ready = try? await node.client().get("/readyz", timeout: .seconds(5))
                let hosts = ((ready?.json["checks"] as? [String: Any])?["database"] as? [String: Any])?["hosts"] as? [[String: Any]]
                return hosts?.map { $0["role"] as? String } == ["standby", "primary"]
            }
        }
    }

    @Test func restartingAStandbyIsInvisibleToClients() async throws {
        // Two standbys, either may acknowledge (ANY 1): one restarting does not block commits.
        let set = try await PostgresReplicaSet.start(standbys: 2)
        defer { set.stopAll() }
        let database = try await set.createDatabase()
        let (nodes, readers) = try await Self.nodesAndReaders(set, database: database)
        defer { for node in nodes { node.process.send(SIGKILL) } }
        let load = AccountLoad()
        let started = ContinuousClock.now
        load.start(nodes: nodes.map(\.baseURL), writers: 4, readers: readers)
        try await Self.waitForWrites(load, 5, after: started, "before the standby stops")
        await set.servers[1].stopFast()
        try await Self.waitForWrites(load, 5, after: ContinuousClock.now, "while a standby is down")
        try await set.servers[1].restart()
        try await set.waitUntilStreaming(standbys: 2)
        try await Self.waitForWrites(load, 5, after: ContinuousClock.now, "after the standby is back")
        let report = await load.stop()
        try await Self.verify(report, on: set.servers[0], database: database)
        #expect(report.failedWriteAttempts == 0, "writes failed while a standby restarted")
        #expect(report.failedReads.isEmpty, "\(report.failedReads.prefix(5))")
        #expect(report.acknowledged.count > 10)
    }
}
