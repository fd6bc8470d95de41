import Foundation
import Logging
import ServiceLifecycle
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence
import SteadfastTestSupport

/// A ``Scheduler`` running in its own ServiceGroup, as in a node, stoppable gracefully.
final class RunningScheduler: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let settings: SchedulerSettings
    private let finished = LockedBox(false)

    init(_ jobs: [JobDefinition], database: any SQLDatabase, node: String, settings: SchedulerSettings, clock: any WallClock = SystemWallClock()) {
        var logger = Logger(label: "test.\(node)")
        logger.logLevel = ProcessInfo.processInfo.environment["STEADFAST_TEST_LOG"] == nil ? .critical : .debug
        let scheduler = Scheduler(jobs: JobRegistry(jobs), database: database, nodeID: node, settings: settings, clock: clock, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [scheduler], logger: logger))
        self.group = group
        self.settings = settings
        task = Task { [finished] in
            defer { finished.with { $0 = true } }
            try await group.run()
        }
    }

    /// Graceful shutdown, then waits for the scheduler to return.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Graceful shutdown of a scheduler on a clock the test moves: moves it (by `step` whenever
    /// something sleeps on it and `ready` holds) until the scheduler has returned, as its
    /// shutdown grace and the hand-back of running slots wait on the clock. A test whose
    /// outcome depends on work finishing before the grace runs out (a body's last database
    /// write) passes a `ready` that is false while that work is in flight, so the clock never
    /// outruns a slow machine. The clock moves at most the shutdown and cancel graces (and a
    /// second): all a shutdown waits for on it; the rest (database writes) takes real time, and
    /// moving the clock meanwhile would expire what the test reads afterwards.
    func stop(
        driving clock: ManualClock, by step: Duration = .milliseconds(100), ready: @escaping @Sendable () -> Bool = { true }
    ) async throws {
        await group.triggerGracefulShutdown()
        let graces = settings.shutdownGrace + settings.cancelGrace + .seconds(1)
        _ = await clock.drive(by: step, limit: graces, ready: ready) { finished.value }
        try await task.value
    }

    /// Hard stop (cancellation), as when a node's shutdown time runs out.
    func cancel() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Reads what the `heartbeat` job recorded: slot key → [(node, token)].
func heartbeats(_ database: any SQLDatabase, job: String = "heartbeat") async throws -> [String: [(node: String, token: Int64)]] {
    let rows = try await database.query("SELECT slot_key, node, fencing_token FROM job_heartbeats WHERE job = \(job) ORDER BY slot_at")
    var result: [String: [(node: String, token: Int64)]] = [:]
    for row in rows {
        result[try row.string("slot_key"), default: []].append((try row.string("node"), try row.int("fencing_token")))
    }
    return result
}

/// A quarter second past a whole second: off every slot boundary, so "now" is never ambiguous.
let offSlot = Date(timeIntervalSince1970: 1_800_000_000.25)
