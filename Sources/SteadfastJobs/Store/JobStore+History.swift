import Foundation
import SteadfastPersistence

extension JobStore {
    static let runColumns: SQL = """
        job, slot_key, slot_at, kind, state, holder, fencing_token, takeovers, missed_slots, requested_by, created_at, started_at,
        finished_at, lease_expires_at, duration_ms, error
        """

    /// Every published job, by name, with its latest runs and next slot after `now`.
    public func jobs(now: Date) async throws -> [JobSummary] {
        let rows = try await database.read("""
            SELECT name, schedule, catch_up, timeout_ms, last_slot_at, skipped_slots, published_at, published_by
            FROM scheduler_jobs ORDER BY name
            """)
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
