import Foundation
import Logging
import ServiceLifecycle
import SteadfastDomain
import SteadfastPersistence

/// The cluster-safe scheduler: a service every node runs. For each job it computes the due slots
/// from the clock and claims them in the database — so across all nodes each slot runs exactly
/// once — runs the body with a timeout, renews the lease every third of it, and records the
/// outcome. A poller takes over slots whose holder died (lease expired), slots handed back at
/// shutdown, and manual runs.
///
/// On graceful shutdown it claims nothing more, lets running jobs finish within
/// ``SchedulerSettings/shutdownGrace``, then cancels them and hands their slots back so another
/// node takes them at once.
public struct Scheduler: Service {
    public let jobs: JobRegistry
    public let nodeID: String
    public let settings: SchedulerSettings
    let store: JobStore
    let clock: any WallClock
    let logger: Logger

    public init(jobs: JobRegistry, database: any SQLDatabase, nodeID: String, settings: SchedulerSettings = .init(), clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.jobs = jobs
        self.nodeID = nodeID
        self.settings = settings
        self.store = JobStore(database: database)
        self.clock = clock
        var logger = logger
        logger[metadataKey: "steadfast.node.id"] = .string(nodeID)
        self.logger = logger
    }

    public func run() async throws {
        guard await publishDefinitions() else { return }
        await checkClock()
        let runners = jobs.definitions.map { JobRunner(definition: $0, store: store, node: nodeID, settings: settings, clock: clock, logger: logger) }
        let byName = Dictionary(uniqueKeysWithValues: runners.map { ($0.definition.name, $0) })
        logger.info("scheduler running", metadata: [
            "steadfast.jobs": "\(jobs.names.joined(separator: ","))", "steadfast.jobs.lease": "\(DurationText.format(settings.lease))",
        ])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for runner in runners {
                    group.addTask { await runner.run() }
                }
                group.addTask { await self.poll(byName) }
            }
        } onGracefulShutdown: {
            for runner in runners { runner.shutdown() }
        }
        logger.info("scheduler stopped")
    }

    /// Records this node's jobs, retrying while the database is unreachable; `false` if shutdown
    /// came first.
    func publishDefinitions() async -> Bool {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await store.publish(jobs.definitions, node: nodeID, now: clock.now())
                return true
            } catch {
                logger.warning("cannot publish job definitions yet; retrying", metadata: ["error": "\(error)"])
                do {
                    try await cancelWhenGracefulShutdown { [settings, clock] in try await clock.sleep(for: settings.pollInterval) }
                } catch {
                    return false
                }
            }
        }
        return false
    }

    /// Looks for slots other nodes left (dead leases, hand-backs, manual runs) every poll interval
    /// of the injected clock.
    func poll(_ runners: [String: JobRunner]) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [settings, clock] in try await clock.sleep(for: settings.pollInterval) }
            } catch {
                return
            }
            do {
                for name in try await store.jobsWithOpenWork(now: clock.now()) {
                    runners[name]?.wake()
                }
            } catch {
                logger.debug("polling for open work failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Leases compare the clocks of different nodes: warn when this node's clock is far from the
    /// database server's (PostgreSQL), which stands in for the other nodes'.
    func checkClock() async {
        guard store.database.dialect == .postgres else { return }
        let before = clock.now()
        guard let row = try? await store.database.read("SELECT clock_timestamp() AS now").first, let server = try? row.date("now") else { return }
        let after = clock.now()
        let skew = server.timeIntervalSince(before.addingTimeInterval(after.timeIntervalSince(before) / 2))
        if abs(skew) > settings.lease.totalSeconds / 10 {
            logger.warning("this node's clock differs from the database server's; leases assume clocks agree to well within the lease (use NTP)", metadata: [
                "steadfast.jobs.clock_skew_seconds": "\(String(format: "%.3f", skew))",
            ])
        }
    }
}
