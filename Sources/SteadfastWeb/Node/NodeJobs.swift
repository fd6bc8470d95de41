import SteadfastConfig
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence

/// The jobs every node's scheduler runs. Each node builds the same list from the same binary and
/// configuration; the database decides which node runs each slot.
///
/// Wiring a new job is one line here, e.g.
/// `jobs.add(JobDefinition("billing-renewals", schedule: try .cron("0 * * * *", timeZone: zone)) { _ = try await recurring.generateRenewalInvoices(now: $0.slot) })`
/// — see docs/jobs.md.
enum NodeJobs {
    static func registry(configuration: NodeConfiguration, database: any SQLDatabase, clock: any WallClock) throws -> JobRegistry {
        var jobs = JobRegistry()
        jobs.add(SessionCleanupJob.definition(database: database, interval: configuration.sessionCleanupInterval))
        jobs.add(HistoryPruneJob.definition(store: JobStore(database: database), retention: configuration.jobsHistoryRetention))
        if let interval = configuration.jobsHeartbeatInterval {
            jobs.add(HeartbeatJob.definition(
                interval: interval, duration: configuration.jobsHeartbeatDuration,
                catchUp: CatchUpPolicy(parsing: configuration.jobsHeartbeatCatchUp) ?? .runAll
            ))
        }
        return jobs
    }

    /// The scheduler settings from `jobs.*`.
    static func settings(_ configuration: NodeConfiguration) -> SchedulerSettings {
        SchedulerSettings(lease: configuration.jobsLease, pollInterval: configuration.jobsPollInterval, shutdownGrace: configuration.jobsShutdownGrace)
    }
}
