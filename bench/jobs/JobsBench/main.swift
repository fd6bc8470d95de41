import Foundation
import Logging
import SteadfastJobs
import SteadfastPersistence
import SteadfastTestSupport
import Synchronization

// Scheduler benchmark (see docs/jobs.md), on real servers on 127.0.0.1:
// 1. claim overhead per slot: database round trips and latency of each scheduler operation —
//    three nodes (three connection pools) competing for every slot on PostgreSQL (fsync on),
//    one node on SQLite (synchronous=FULL);
// 2. takeover time: real `steadfast serve` nodes, the holder of a running slot killed with -9,
//    time until another node has taken the slot over — for several lease lengths.
//
// Usage: JobsBench [slots=300] [trials=3] [leases=2,5,10,30] [poll-ms=500]

let arguments = Array(CommandLine.arguments.dropFirst())
let slotCount = arguments.first.flatMap(Int.init) ?? 300
let trials = arguments.dropFirst().first.flatMap(Int.init) ?? 3
let leases = (arguments.dropFirst(2).first ?? "2,5,10,30").split(separator: ",").compactMap { Int($0) }
let pollMilliseconds = arguments.dropFirst(3).first.flatMap(Int.init) ?? 500

/// Counts statements sent (each one is a round trip to PostgreSQL; BEGIN and COMMIT included).
final class CountingDatabase: SQLDatabase {
    let base: any SQLDatabase
    let statements = Mutex(0)
    init(_ base: any SQLDatabase) { self.base = base }
    var dialect: SQLDialect { base.dialect }
    var count: Int { statements.withLock { $0 } }

    func query(_ sql: SQL) async throws -> [SQLRow] {
        statements.withLock { $0 += 1 }
        return try await base.query(sql)
    }

    func read(_ sql: SQL) async throws -> [SQLRow] {
        statements.withLock { $0 += 1 }
        return try await base.read(sql)
    }

    func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        statements.withLock { $0 += 2 }
        return try await base.transaction(options) { executor in try await body(CountingExecutor(base: executor, owner: self)) }
    }

    func ping() async throws { try await base.ping() }
    func close() async throws { try await base.close() }

    struct CountingExecutor: SQLExecutor {
        let base: any SQLExecutor
        let owner: CountingDatabase
        var dialect: SQLDialect { base.dialect }
        func query(_ sql: SQL) async throws -> [SQLRow] {
            owner.statements.withLock { $0 += 1 }
            return try await base.query(sql)
        }
    }
}

/// Latencies (ms) and round trips of one kind of operation.
struct Samples {
    var milliseconds: [Double] = []
    var roundTrips: [Int] = []
    mutating func add(_ duration: Duration, _ trips: Int) {
        milliseconds.append(Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
        roundTrips.append(trips)
    }
    func percentile(_ p: Double) -> Double {
        let sorted = milliseconds.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }
    var trips: String {
        let low = roundTrips.min() ?? 0, high = roundTrips.max() ?? 0
        return low == high ? "\(low)" : "\(low)-\(high)"
    }
    var meanTrips: Double { roundTrips.isEmpty ? 0 : Double(roundTrips.reduce(0, +)) / Double(roundTrips.count) }
}

func measure<T>(_ database: CountingDatabase, into samples: inout Samples, _ operation: () async throws -> T) async throws -> T {
    let before = database.count
    let start = ContinuousClock.now
    let result = try await operation()
    samples.add(ContinuousClock.now - start, database.count - before)
    return result
}

/// Part 1 on one engine: every slot, every node tries to claim it at the same moment.
func claimOverhead(_ name: String, databases: [CountingDatabase]) async throws -> [(String, Samples)] {
    let job = JobDefinition("bench", schedule: .every(.seconds(1)), catchUp: .runAll) { _ in }
    try await JobStore(database: databases[0]).publish([job], node: "n0", now: Date())
    let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 100).rounded(.down) + 0.25)
    var winner = Samples(), loser = Samples(), renew = Samples(), finish = Samples(), poll = Samples()
    let lease: Duration = .seconds(30)
    for slot in 0..<slotCount {
        let now = base.addingTimeInterval(Double(slot))
        let results = try await withThrowingTaskGroup(of: (Int, ClaimResult, Duration, Int).self) { group in
            for (index, database) in databases.enumerated() {
                group.addTask {
                    let store = JobStore(database: database)
                    let before = database.count
                    let start = ContinuousClock.now
                    let result = try await store.claimNext(job.rules, node: "n\(index)", claimID: UUID(), now: now, lease: lease)
                    return (index, result, ContinuousClock.now - start, database.count - before)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var held: (Int, Claim)?
        for (index, result, duration, trips) in results {
            if case .claimed(let claim) = result {
                winner.add(duration, trips)
                held = (index, claim)
            } else {
                loser.add(duration, trips)
            }
        }
        guard let (index, claim) = held else { throw HarnessError("slot \(slot): nobody claimed it") }
        let database = databases[index]
        let store = JobStore(database: database)
        _ = try await measure(database, into: &renew) { try await store.renew(claim, node: "n\(index)", now: now, lease: lease) }
        _ = try await measure(database, into: &finish) { try await store.finish(claim, outcome: .succeeded, duration: .zero, now: now) }
        _ = try await measure(database, into: &poll) { try await store.jobsWithOpenWork(now: now) }
    }
    var rows = [("claim, the node that wins", winner)]
    if !loser.roundTrips.isEmpty { rows.append(("claim, each other node", loser)) }
    rows += [("lease renewal (every lease/3)", renew), ("record the outcome", finish), ("poll for left work (per node)", poll)]
    return rows
}

func printOverhead(_ engine: String, nodes: Int, _ rows: [(String, Samples)]) {
    print("\n\(engine), \(nodes) node\(nodes == 1 ? "" : "s"), \(slotCount) slots:")
    print("  operation                        round trips   median ms   p95 ms")
    for (name, samples) in rows {
        print("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
            + samples.trips.padding(toLength: 14, withPad: " ", startingAt: 0)
            + String(format: "%-12.2f%.2f", samples.percentile(0.5), samples.percentile(0.95)))
    }
    let perSlot = rows.filter { !$0.0.hasPrefix("lease") && !$0.0.hasPrefix("poll") }
        .map { $0.0.contains("each other") ? $0.1.meanTrips * Double(nodes - 1) : $0.1.meanTrips }.reduce(0, +)
    let winner = rows[0].1.percentile(0.5) + (rows.first { $0.0.hasPrefix("record") }?.1.percentile(0.5) ?? 0)
    print(String(format: "  per slot: %.0f round trips across the cluster (claims by every node + the outcome); the running node spends %.2f ms (median) on claim + outcome", perSlot, winner))
}

func part1() async throws {
    print("== 1. Claim overhead per slot ==")
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    // PostgreSQL with fsync on: commit latency as in production on this disk.
    let server = try await PostgresServer.start(fastAndUnsafe: false)
    defer { server.stop() }
    let name = try await server.createDatabase(prefix: "jobsbench")
    guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("url") }
    let engines = (0..<3).map { _ in PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 4, statementTimeout: .seconds(10), logger: logger) }
    let pools = engines.map { engine in Task { try await engine.run() } }
    defer { pools.forEach { $0.cancel() } }
    try await Migrator(nodeID: "bench").migrate(engines[0], logger: logger)
    let pgRows = try await claimOverhead("postgres", databases: engines.map(CountingDatabase.init))
    printOverhead("PostgreSQL \(try await server.psql("SHOW server_version"))", nodes: 3, pgRows)

    let directory = try TestPaths.makeTemporaryDirectory(prefix: "jobsbench-sqlite")
    defer { try? FileManager.default.removeItem(at: directory) }
    let sqlite = try await SQLiteEngine.open(path: directory.appendingPathComponent("bench.sqlite").path, logger: logger)
    try await Migrator(nodeID: "bench").migrate(sqlite, logger: logger)
    let sqliteRows = try await claimOverhead("sqlite", databases: [CountingDatabase(sqlite)])
    printOverhead("SQLite (statements, in process)", nodes: 1, sqliteRows)
    try await sqlite.close()
}

/// Part 2: one trial — three real nodes, a manual heartbeat run held by one of them, kill -9 it.
struct Takeover {
    var afterKill: Double
    var afterExpiry: Double
}

func takeoverTrial(server: PostgresServer, lease: Int) async throws -> Takeover {
    let name = try await server.createDatabase(prefix: "takeover")
    let url = server.url(database: name)
    let arguments = [
        "--set", "jobs.lease=\(lease)s", "--set", "jobs.poll_interval=\(pollMilliseconds)ms",
        "--set", "jobs.heartbeat.interval=1d", "--set", "jobs.heartbeat.duration=\(lease * 2 + 10)s", "--log-level", "warning",
    ]
    let nodes = try await withThrowingTaskGroup(of: SteadfastNode.self) { group in
        for i in 0..<3 { group.addTask { try await SteadfastNode.start(name: "t\(i)", database: url, arguments: arguments) } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
    defer { for node in nodes { node.process.send(SIGKILL) } }
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    guard case .postgres(let target) = try DatabaseURL(url) else { throw HarnessError("url") }
    let engine = PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 2, statementTimeout: .seconds(10), logger: logger)
    let pool = Task { try await engine.run() }
    defer { pool.cancel() }
    let store = JobStore(database: engine)
    guard await eventually(timeout: .seconds(30), { (try? await store.jobs(now: Date()))?.contains { $0.name == "heartbeat" } == true }) else {
        throw HarnessError("the nodes did not publish their jobs")
    }
    // The day's scheduled slot may be running already; either way one heartbeat run is held.
    _ = try await store.requestRun(job: "heartbeat", requestedBy: "bench", now: Date())
    var held: JobRunRecord?
    guard await eventually(timeout: .seconds(30), interval: .milliseconds(20), {
        held = try? await store.history(job: "heartbeat", limit: 5).first { $0.state == "running" }
        return held != nil
    }), let run = held, let holder = nodes.first(where: { $0.process.stdout.contains("node \(run.holder ?? "?") listening") }) else {
        throw HarnessError("no node started the run")
    }
    // Let it renew a few times, then kill it mid-lease at a random moment.
    try await Task.sleep(for: .milliseconds(Int.random(in: 500...(500 + lease * 1000))))
    let before = try await store.run(job: "heartbeat", slotKey: run.slotKey)
    let killedAt = Date()
    await holder.process.kill9()
    var taken: JobRunRecord?
    guard await eventually(timeout: .seconds(Double(lease) * 3 + 30), interval: .milliseconds(10), {
        taken = try? await store.run(job: "heartbeat", slotKey: run.slotKey)
        return (taken?.fencingToken ?? 0) > run.fencingToken
    }), let startedAt = taken?.startedAt, let expiry = before?.leaseExpiresAt else {
        throw HarnessError("no takeover")
    }
    return Takeover(afterKill: startedAt.timeIntervalSince(killedAt), afterExpiry: startedAt.timeIntervalSince(expiry))
}

func part2() async throws {
    print("\n== 2. Takeover after kill -9 of the holder (3 real nodes, PostgreSQL, jobs.poll_interval=\(pollMilliseconds)ms) ==")
    let server = try await PostgresServer.start()
    defer { server.stop() }
    print("  lease   trials   kill → takeover: min / median / max (s)   lease expiry → takeover: median / max (s)   bound: lease + poll")
    for lease in leases {
        var results: [Takeover] = []
        for _ in 0..<trials { results.append(try await takeoverTrial(server: server, lease: lease)) }
        let afterKill = results.map(\.afterKill).sorted()
        let afterExpiry = results.map(\.afterExpiry).sorted()
        print("  " + "\(lease)s".padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%-8d %5.2f / %5.2f / %5.2f                      %5.2f / %5.2f                              %.1f s",
                     results.count, afterKill.first!, afterKill[afterKill.count / 2], afterKill.last!,
                     afterExpiry[afterExpiry.count / 2], afterExpiry.last!, Double(lease) + Double(pollMilliseconds) / 1000))
    }
}

do {
    try await part1()
    try await part2()
} catch {
    FileHandle.standardError.write(Data("JobsBench failed: \(error)\n".utf8))
    exit(1)
}
