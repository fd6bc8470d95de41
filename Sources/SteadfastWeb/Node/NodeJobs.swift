import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastJobs
import SteadfastMail
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage

/// The jobs every node's scheduler runs. Each node builds the same list from the same binary and
/// configuration; the database decides which node runs each slot.
///
/// Wiring a new job is one line here, e.g.
/// `jobs.add(JobDefinition("nightly-report", schedule: try .cron("0 3 * * *", timeZone: zone)) { try await report.make(asOf: $0.slot) })`
/// — see docs/jobs.md.
enum NodeJobs {
    static func registry(
        configuration: NodeConfiguration, database: any SQLDatabase, clock: any WallClock, accounts: AccountService, recurring: RecurringBilling,
        capture: AutomaticCapture? = nil, storage: StorageRegistry, catalog: SQLFileCatalog, attachments: any MailAttachmentSource = NoMailAttachmentSource()
    ) throws -> JobRegistry {
        var jobs = JobRegistry()
        jobs.add(BillingJobs.definition(recurring: recurring, schedule: try billingSchedule(configuration)))
        jobs.add(BillingJobs.capture(capture, schedule: try billingSchedule(configuration)))
        jobs.add(StorageJobs.definition(queue: StorageMigrationQueue(database: database, clock: clock), registry: storage, catalog: catalog, settleTime: configuration.storageRouteSettleTime))
        jobs.add(try MailJobs.definition(configuration: configuration, database: database, clock: clock, accounts: accounts, attachments: attachments))
        let tickets = SupportWeb.tickets(
            configuration: configuration, database: database, files: FileService(database: database, registry: storage, clock: clock, logger: Logger(label: "steadfast.support")),
            clock: clock, logger: Logger(label: "steadfast.support")
        )
        jobs.add(SupportJobs.autoClose(tickets: tickets))
        jobs.add(SupportJobs.expireUploads(tickets: tickets))
        jobs.add(SessionCleanupJob.definition(database: database, interval: configuration.sessionCleanupInterval))
        jobs.add(HistoryPruneJob.definition(store: JobStore(database: database), retention: configuration.jobsHistoryRetention))
        if let interval = configuration.jobsHeartbeatInterval {
            jobs.add(HeartbeatJob.definition(
                interval: interval, duration: configuration.jobsHeartbeatDuration,
                catchUp: CatchUpPolicy(parsing: configuration.jobsHeartbeatCatchUp) ?? .runAll
            ))
        }
        return attributed(jobs)
    }

    /// The jobs with the audit trail's origin bound to each run: whatever a job changes is
    /// recorded as done by that job on this node (docs/accounts.md, "Audit trail").
    static func attributed(_ jobs: JobRegistry) -> JobRegistry {
        JobRegistry(jobs.definitions.map { job in
            JobDefinition(job.name, schedule: job.schedule, timeout: job.timeout, catchUp: job.catchUp, lateAfter: job.lateAfter, maxTakeovers: job.maxTakeovers) { context in
                try await AuditTrail.$origin.withValue(AuditOrigin(actor: .job(job.name), nodeID: context.node)) { try await job.body(context) }
            }
        })
    }

    /// `jobs.billing.schedule`: `every 1h`, or a cron expression evaluated in `jobs.time_zone`
    /// unless it names its own zone, `0 * * * * (Europe/Berlin)`.
    static func billingSchedule(_ configuration: NodeConfiguration) throws -> Schedule {
        let text = configuration.jobsBillingSchedule.trimmingCharacters(in: .whitespaces)
        do {
            let parsed = try Schedule(parsing: text)
            if case .cron(let expression, _) = parsed, !text.hasSuffix(")") {
                return .cron(expression, configuration.jobsTimeZone)
            }
            return parsed
        } catch {
            throw ConfigError(key: ConfigKey.jobsBillingSchedule.name, message: "\(error)")
        }
    }

    /// The scheduler settings from `jobs.*`.
    static func settings(_ configuration: NodeConfiguration) -> SchedulerSettings {
        SchedulerSettings(lease: configuration.jobsLease, pollInterval: configuration.jobsPollInterval, shutdownGrace: configuration.jobsShutdownGrace)
    }
}
