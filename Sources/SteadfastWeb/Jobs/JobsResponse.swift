import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence
import SteadfastServices

/// `GET /api/v1/admin/jobs`: a page of the published jobs, each with its latest run and next slot.
struct JobsResponse: ResponseEncodable {
    /// One job.
    struct Job: Encodable {
        let name: String
        let schedule: String
        let catch_up: String
        let timeout_seconds: Double
        let next_run_at: String?
        let skipped_slots: Int
        let published_by: String
        let last_run: Run?
        let last_finished: Run?
    }

    /// One run (a row of `job_runs`).
    struct Run: Encodable {
        let job: String
        let slot_key: String
        let slot_at: String
        let kind: String
        let state: String
        let node: String?
        let fencing_token: Int64
        let takeovers: Int
        let missed_slots: Int
        let requested_by: String?
        let started_at: String?
        let finished_at: String?
        let duration_ms: Int64?
        let lag_ms: Int64?
        let error: String?

        init(_ run: JobRunRecord) {
            job = run.job
            slot_key = run.slotKey
            slot_at = JobsView.time(run.slotAt)
            kind = run.kind.rawValue
            state = run.state
            node = run.holder
            fencing_token = run.fencingToken
            takeovers = run.takeovers
            missed_slots = run.missedSlots
            requested_by = run.requestedBy
            started_at = run.startedAt.map { JobsView.time($0) }
            finished_at = run.finishedAt.map { JobsView.time($0) }
            duration_ms = run.duration?.totalMilliseconds
            lag_ms = run.startLag?.totalMilliseconds
            error = run.error
        }
    }

    let node: String
    let jobs: [Job]
    /// The page: at most `limit` jobs from `offset` (as every staff list's API pages).
    let limit: Int
    let offset: Int

    init(node: String, jobs: [JobSummary], limit: Int, offset: Int) {
        self.node = node
        self.limit = limit
        self.offset = offset
        self.jobs = jobs.map { job in
            Job(
                name: job.name, schedule: job.schedule, catch_up: job.catchUp, timeout_seconds: job.timeout.totalSeconds,
                next_run_at: job.nextSlotAt.map { JobsView.time($0) }, skipped_slots: job.skippedSlots, published_by: job.publishedBy,
                last_run: job.lastRun.map(Run.init), last_finished: job.lastFinished.map(Run.init)
            )
        }
    }
}

/// `GET /api/v1/admin/jobs/{name}/runs`.
struct JobRunsResponse: ResponseEncodable {
    let runs: [JobsResponse.Run]
}

/// `POST /api/v1/admin/jobs/{name}/run` (202): the queued manual run.
struct JobRunQueuedResponse: ResponseEncodable {
    let job: String
    let slot_key: String
}

extension JobsResponse {
    /// A run of `job` that `staff` queue by hand, the one way the pages and the API queue it: the
    /// run and its audit event (`job.run_queued`) in one transaction, then a log line. The run's
    /// slot key, or nil when no node has published a job of that name (each caller answers 404
    /// in its own words).
    static func queueRun(_ job: String, by staff: Account, store: JobStore, clock: any WallClock, context: PortalRequestContext) async throws -> String? {
        let now = clock.now()
        let key: String
        do {
            key = try await store.requestRun(job: job, requestedBy: staff.email.value, now: now) { tx, slot in
                try await AuditTrail.record(tx, .jobRunQueued, object: AuditObject(rawType: "job", id: job), after: ["slot_key": slot], now: now)
            }
        } catch let error as JobError where error.code == .unknownJob {
            return nil
        }
        context.logger.notice("manual job run requested", metadata: ["steadfast.job.name": "\(job)", "steadfast.job.slot": "\(key)"])
        return key
    }
}
