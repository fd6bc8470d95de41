import Foundation
import SteadfastTestSupport

// PostgreSQL failover benchmark (see docs/ha-postgres.md), on real servers on 127.0.0.1:
// 1. the write-unavailability window: kill -9 the primary under a steady registration load
//    through a real node, promote the synchronous standby at once, and time from the kill to
//    the first acknowledged write sent after it, minus the time `pg_ctl promote` took;
// 2. the throughput cost of synchronous replication: the same load for a fixed time against
//    a synchronous and an asynchronous standby, in the same run.

let arguments = CommandLine.arguments.dropFirst()
let runs = arguments.first.flatMap(Int.init) ?? 5
let seconds = arguments.dropFirst().first.flatMap(Double.init) ?? 5

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

struct FailoverRun {
    var window: Double
    var promotion: Double
    var lost: Int
    var acknowledged: Int
}

func failoverRun() async throws -> FailoverRun {
    let set = try await PostgresReplicaSet.start(standbys: 1, synchronous: true)
    defer { set.stopAll() }
    let database = try await set.createDatabase()
    let node = try await SteadfastNode.start(name: "bench", database: set.url(database: database))
    defer { node.process.send(SIGKILL) }
    let load = AccountLoad()
    load.start(nodes: [node.baseURL], writers: 4, readers: [])
    try await Task.sleep(for: .seconds(1.5))
    await set.servers[0].killHard()
    // Counted from when the primary and its backends are gone: anything acknowledged for a
    // request sent later was written by the new primary.
    let killedAt = ContinuousClock.now
    let promoteStart = ContinuousClock.now
    try await set.servers[1].promote()
    let promotion = ContinuousClock.now - promoteStart
    var firstAck: ContinuousClock.Instant?
    let deadline = ContinuousClock.now + .seconds(30)
    while firstAck == nil, ContinuousClock.now < deadline {
        let snapshot = load.snapshot
        firstAck = zip(snapshot.acknowledgedSentAt, snapshot.acknowledgedAt).filter { $0.0 > killedAt }.map(\.1).min()
        try await Task.sleep(for: .milliseconds(10))
    }
    let report = await load.stop()
    let stored = Set(try await set.servers[1].psql("SELECT email FROM accounts", database: database).split(separator: "\n").map(String.init))
    let lost = Set(report.acknowledged).subtracting(stored).count
    guard let firstAck else { throw HarnessError("no write was acknowledged within 30 s of the kill") }
    return FailoverRun(window: milliseconds(firstAck - killedAt), promotion: milliseconds(promotion), lost: lost, acknowledged: report.acknowledged.count)
}

/// Raw commit throughput on the primary with pgbench (8 clients inserting single rows), which
/// shows the replication cost without the portal's own work in front of it.
func pgbenchRate(synchronous: Bool) async throws -> Double {
    let set = try await PostgresReplicaSet.start(standbys: 1, synchronous: synchronous)
    defer { set.stopAll() }
    let database = try await set.createDatabase(prefix: "pgbench")
    try await set.primary.psql("CREATE TABLE bench (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)", database: database)
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-pgbench-\(UUID().uuidString).sql")
    try "INSERT INTO bench (payload) VALUES (md5(random()::text));\n".write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    let output = try await PostgresServer.run(
        set.primary.binDirectory + "/pgbench",
        ["-n", "-h", "127.0.0.1", "-p", "\(set.primary.port)", "-U", "postgres", "-c", "8", "-j", "2", "-T", "\(Int(seconds))", "-f", script.path, database]
    )
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
          let rate = Double(line.dropFirst("tps = ".count).split(separator: " ").first ?? "") else {
        throw HarnessError("could not read pgbench's tps from:\n\(output)")
    }
    return rate
}

func throughput(synchronous: Bool) async throws -> Double {
    let set = try await PostgresReplicaSet.start(standbys: 1, synchronous: synchronous)
    defer { set.stopAll() }
    let database = try await set.createDatabase()
    let node = try await SteadfastNode.start(name: "bench-\(synchronous ? "sync" : "async")", database: set.url(database: database))
    defer { node.process.send(SIGKILL) }
    let load = AccountLoad()
    load.start(nodes: [node.baseURL], writers: 16, readers: [])
    try await Task.sleep(for: .seconds(seconds))
    let report = await load.stop()
    return Double(report.acknowledged.count) / seconds
}

print("Steadfast PostgreSQL failover benchmark — \(runs) runs, 1 node, 4 writers (bcrypt cost 4)")
print("")
print("run    kill→write ms     promote ms   beyond promote      acked   lost")
var beyond: [Double] = []
var totalLost = 0
for run in 1...runs {
    let result = try await failoverRun()
    let extra = result.window - result.promotion
    beyond.append(extra)
    totalLost += result.lost
    print(String(format: "%-5d %14.0f %14.0f %16.0f %10d %6d", run, result.window, result.promotion, extra, result.acknowledged, result.lost))
}
let sorted = beyond.sorted()
print("")
print(String(format: "write unavailability beyond promotion: median %.0f ms, max %.0f ms (aim < 1000 ms); acknowledged writes lost: %d (aim 0)",
             sorted[sorted.count / 2], sorted.last ?? 0, totalLost))
print("")
let syncRate = try await throughput(synchronous: true)
let asyncRate = try await throughput(synchronous: false)
print(String(format: "portal registrations/s over %.0f s, 16 writers: synchronous %.0f, asynchronous %.0f, ratio sync/async %.2f", seconds, syncRate, asyncRate, syncRate / asyncRate))
let syncCommits = try await pgbenchRate(synchronous: true)
let asyncCommits = try await pgbenchRate(synchronous: false)
print(String(format: "raw single-row commits/s (pgbench, 8 clients): synchronous %.0f, asynchronous %.0f, ratio sync/async %.2f", syncCommits, asyncCommits, syncCommits / asyncCommits))
