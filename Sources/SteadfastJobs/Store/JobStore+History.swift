import Foundation
import SteadfastPersistence

extension JobStore {
    static let runColumns: SQL = """
        job, slot_key, slot_at, kind, state, holder, fencing_token, takeovers, missed_slots, requested_by, created_at, started_at,
        finished_at, lease_expires_at, duration_ms, error
        """

    static let jobColumns: SQL = """
        j.name AS name, j.schedule AS schedule, j.catch_up AS catch_up, j.timeout_ms AS timeout_ms, j.last_slot_at AS last_slot_at,
        j.skipped_slots AS skipped_slots, j.published_at AS published_at, j.published_by AS published_by
        """

    /// Every published job, by name, with its latest runs and next slot after `now`.
    public func jobs(now: Date) async throws -> [JobSummary] {
        try await summaries(try await database.read("SELECT \(Self.jobColumns) FROM scheduler_jobs j ORDER BY j.name"), now: now)
    }

    /// What the staff jobs list can be narrowed to, judged by each job's latest run (the one
    /// ``JobSummary/lastRun`` shows).
    public enum ListState: String, Sendable, CaseIterable {
        /// The latest run failed, timed out or was abandoned.
        case failing
        /// The latest run is pending, running or handed back.
        case running
        /// The latest run succeeded.
        case ok
        /// The job has never run.
        case never
    }

    /// What the staff jobs list can be sorted by (the allow-list). `r` is the job's latest run
    /// (none for a job that never ran: those come last either way); the name breaks ties.
    /// `outcome` ranks failing first, then running, then succeeded.
    public static let sortColumns = SortableColumns([
        .init("name", "j.name"), .init("last_run", "r.slot_at", first: .desc, nullable: true),
        .init("duration", "r.duration_ms", first: .desc, nullable: true),
        .init("outcome", """
            CASE WHEN r.state IN ('failed', 'timed_out', 'abandoned') THEN 0 WHEN r.state IN ('pending', 'running', 'released') THEN 1 \
            WHEN r.state = 'succeeded' THEN 2 END
            """, nullable: true),
    ], default: ListSort("name", .asc), tieBreaker: "j.name")

    /// One page of the published jobs, optionally only those in `state`, by name unless `sort`
    /// says otherwise, with their latest runs and next slot after `now`.
    public func jobs(now: Date, state: ListState?, sort: ListSort?, limit: Int, offset: Int) async throws -> [JobSummary] {
        let filter: SQL = switch state {
        case nil: "1 = 1"
        case .failing?: "r.state IN ('failed', 'timed_out', 'abandoned')"
        case .running?: "r.state IN ('pending', 'running', 'released')"
        case .ok?: "r.state = 'succeeded'"
        case .never?: "r.job IS NULL"
        }
        let rows = try await database.read("""
            SELECT \(Self.jobColumns) FROM scheduler_jobs j LEFT JOIN job_runs r ON r.job = j.name AND r.slot_key = (
                SELECT l.slot_key FROM job_runs l WHERE l.job = j.name ORDER BY l.created_at DESC, l.slot_key DESC LIMIT 1
            )
            WHERE \(filter) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """)
        return try await summaries(rows, now: now)
    }

    /// The summaries of `rows` (of ``jobColumns``), in their order.
    func summaries(_ rows: [SQLRow], now: Date) async throws -> [JobSummary] {
        var summaries: [JobSummary] = []
        for row in rows {
            let name = try row.string("name")
            let schedule = try row.string("schedule")
            let last = try await database.read("SELECT \(Self.runColumns) FROM job_runs WHERE job = \(name) ORDER BY created_at DESC, slot_key DESC LIMIT 1")
            let finished = try await database.read("""
                SELECT \(Self.runColumns) FROM job_runs WHERE job = \(name) AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1
                """)
            summaries.append(JobSummary(
                name: name, schedule: schedule, catchUp: try row.string("catch_up"), timeout: .milliseconds(try row.int("timeout_ms")),
                cursor: try row.optionalDate("last_slot_at"), skippedSlots: Int(try row.int("skipped_slots")),
                publishedAt: try row.date("published_at"), publishedBy: try row.string("published_by"),
                lastRun: try last.first.map(Self.record), lastFinished: try finished.first.map(Self.record),
                nextSlotAt: (try? Schedule(parsing: schedule))?.next(after: now)
            ))
        }
        return summaries
    }

    /// The newest runs first, of one job or all.
    public func history(job: String? = nil, limit: Int = 50) async throws -> [JobRunRecord] {
        let rows: [SQLRow]
        if let job {
            rows = try await database.read("SELECT \(Self.runColumns) FROM job_runs WHERE job = \(job) ORDER BY created_at DESC, slot_key DESC LIMIT \(limit)")
        } else {
            rows = try await database.read("SELECT \(Self.runColumns) FROM job_runs ORDER BY created_at DESC, slot_key DESC LIMIT \(limit)")
        }
        return try rows.map(Self.record)
    }

    /// The runs `holder` is running now, oldest first (`cluster rolling-restart` waits for them).
    public func running(holder: String) async throws -> [JobRunRecord] {
        let rows = try await database.read("SELECT \(Self.runColumns) FROM job_runs WHERE state = 'running' AND holder = \(holder) ORDER BY created_at")
        return try rows.map(Self.record)
    }

    /// One run.
    public func run(job: String, slotKey: String) async throws -> JobRunRecord? {
        try await database.first("SELECT \(Self.runColumns) FROM job_runs WHERE job = \(job) AND slot_key = \(slotKey)").map(Self.record)
    }

    static func record(_ row: SQLRow) throws -> JobRunRecord {
        JobRunRecord(
            job: try row.string("job"), slotKey: try row.string("slot_key"), slotAt: try row.date("slot_at"),
            kind: RunKind(rawValue: try row.string("kind")) ?? .scheduled, state: try row.string("state"), holder: try row.optionalString("holder"),
            fencingToken: try row.int("fencing_token"), takeovers: Int(try row.int("takeovers")), missedSlots: Int(try row.int("missed_slots")),
            requestedBy: try row.optionalString("requested_by"), createdAt: try row.date("created_at"), startedAt: try row.optionalDate("started_at"),
            finishedAt: try row.optionalDate("finished_at"), leaseExpiresAt: try row.optionalDate("lease_expires_at"),
            duration: try row.optionalInt("duration_ms").map { .milliseconds($0) }, error: try row.optionalString("error")
        )
    }
}
