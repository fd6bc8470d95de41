import Foundation
import SteadfastDomain
import SteadfastPersistence

/// The scheduler's SQL: publishing job definitions, claiming slots, renewing and releasing
/// leases, recording outcomes, fenced checks, manual runs and history. Works on SQLite and
/// PostgreSQL alike (`INSERT … ON CONFLICT DO NOTHING RETURNING`, `UPDATE … RETURNING`).
///
/// Every call takes the time as a parameter (from the node's injected clock): leases are compared
/// against the clocks of the nodes, which must agree to well within a lease (NTP); the fencing
/// token guards writes where they do not.
///
/// Work that is idempotent by its keys — a renewal, an outcome or a release conditional on the
/// claim id and token, a claim that recognises its own claim id — runs with
/// `TransactionOptions(idempotent: true)`, so after an ambiguous failure it is retried on the new
/// PostgreSQL primary.
public struct JobStore: Sendable {
    public let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    static let idempotent = TransactionOptions(idempotent: true)

    // MARK: Definitions

    /// Records (or updates) the jobs this node runs, keeping each job's cursor.
    public func publish(_ definitions: [JobDefinition], node: String, now: Date) async throws {
        let rows = definitions.map { ($0.name, $0.schedule.description, $0.catchUp.description, $0.timeout.totalMilliseconds) }
        try await database.transaction(Self.idempotent) { db in
            for (name, schedule, catchUp, timeout) in rows {
                try await db.query("""
                    INSERT INTO scheduler_jobs (name, schedule, catch_up, timeout_ms, published_at, published_by)
                    VALUES (\(name), \(schedule), \(catchUp), \(timeout), \(now), \(node))
                    ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule, catch_up = excluded.catch_up,
                        timeout_ms = excluded.timeout_ms, published_at = excluded.published_at, published_by = excluded.published_by
                    """)
            }
        }
    }

    // MARK: Claiming

    /// Looks for work for one job and claims it, in one transaction holding the job's row lock
    /// (`FOR UPDATE` on PostgreSQL; SQLite transactions are exclusive): the decision
    /// (``ClaimDecision``) sees every open run of the job and the job's cursor as they are.
    ///
    /// A scheduled slot is claimed by inserting its row — the `(job, slot_key)` primary key makes
    /// a second claim of the same slot impossible — with fencing token 1; a dead or handed-back
    /// slot is taken over by an update that adds one to its fencing token, conditional on the
    /// token it read. Retrying after an ambiguous failure is safe: the retry finds the row with
    /// its own `claimID` and returns it.
    public func claimNext(_ rules: ClaimRules, node: String, claimID: UUID, now: Date, lease: Duration) async throws -> ClaimResult {
        let nowMillis = SlotTime.millisFloor(now)
        let expires = now + lease
        return try await database.transaction(Self.idempotent) { db in
            let lock: SQL = db.dialect == .postgres ? " FOR UPDATE" : ""
            guard let job = try await db.first("SELECT last_slot_at FROM scheduler_jobs WHERE name = \(rules.job)\(lock)") else {
                throw JobError(.unknownJob, "job \(rules.job) is not published")
            }
            var cursor = try job.optionalDate("last_slot_at").map(SlotTime.millisNearest)
            let open = try await Self.openRuns(rules.job, on: db)
            var abandoned: String?
            var skipped = 0
            var decision = ClaimDecision.decide(rules, open: open, cursor: cursor, claimID: claimID, now: nowMillis)
            // Give up on slots whose holders kept dying, then decide again.
            var remaining = open
            while case .abandon(let run) = decision {
                try await db.query("""
                    UPDATE job_runs SET state = 'abandoned', finished_at = \(now), lease_expires_at = NULL,
                        error = \("abandoned: \(run.takeovers + 1) holders lost the lease")
                    WHERE job = \(rules.job) AND slot_key = \(run.slotKey) AND fencing_token = \(run.fencingToken)
                    """)
                abandoned = run.slotKey
                remaining.removeAll { $0.slotKey == run.slotKey }
                decision = ClaimDecision.decide(rules, open: remaining, cursor: cursor, claimID: claimID, now: nowMillis)
            }
            switch decision {
            case .alreadyHeld(let run):
                return .claimed(Claim(
                    job: rules.job, slotKey: run.slotKey, slotAt: SlotTime.date(run.slotAt), kind: run.kind, fencingToken: run.fencingToken,
                    claimID: claimID, takenOver: run.fencingToken > 1
                ))
            case .busy(let run):
                return .busy(slotKey: run.slotKey, holder: run.holder)
            case .takeOver(let run, let expired):
                let claim = try await Self.reopen(run, rules: rules, node: node, claimID: claimID, expires: expires, now: now, crashed: expired, on: db)
                return claim.map(ClaimResult.claimed) ?? .nothing(skipped: 0, abandoned: abandoned)
            case .startManual(let run):
                let claim = try await Self.reopen(run, rules: rules, node: node, claimID: claimID, expires: expires, now: now, crashed: false, on: db)
                return claim.map(ClaimResult.claimed) ?? .nothing(skipped: 0, abandoned: abandoned)
            case .schedule(let plan):
                if plan.skipped > 0 || plan.advanceTo != nil {
                    skipped = plan.skipped
                    if let advance = plan.advanceTo {
                        cursor = advance
                        try await db.query("""
                            UPDATE scheduler_jobs SET last_slot_at = \(SlotTime.date(advance)), skipped_slots = skipped_slots + \(plan.skipped)
                            WHERE name = \(rules.job)
                            """)
                    }
                }
                guard let slot = plan.claim else { return .nothing(skipped: skipped, abandoned: abandoned) }
                let key = SlotTime.key(slot)
                let inserted = try await db.first("""
                    INSERT INTO job_runs (job, slot_key, slot_at, kind, state, holder, claim_id, fencing_token, lease_expires_at,
                        missed_slots, created_at, started_at)
                    VALUES (\(rules.job), \(key), \(SlotTime.date(slot)), 'scheduled', 'running', \(node), \(claimID), 1, \(expires),
                        \(plan.covers), \(now), \(now))
                    ON CONFLICT (job, slot_key) DO NOTHING
                    RETURNING fencing_token
                    """)
                guard inserted != nil else { return .nothing(skipped: skipped, abandoned: abandoned) }
                return .claimed(Claim(
                    job: rules.job, slotKey: key, slotAt: SlotTime.date(slot), kind: .scheduled, fencingToken: 1, claimID: claimID,
                    missedSlots: plan.covers
                ))
            case .abandon:
                return .nothing(skipped: skipped, abandoned: abandoned)
            }
        }
    }

    static func openRuns(_ job: String, on db: any SQLExecutor) async throws -> [ClaimDecision.OpenRun] {
        try await db.query("""
            SELECT slot_key, slot_at, kind, state, fencing_token, holder, claim_id, lease_expires_at, takeovers, created_at
            FROM job_runs WHERE job = \(job) AND state IN ('pending', 'running', 'released')
            """).map { row in
            guard let kind = RunKind(rawValue: try row.string("kind")), let state = ClaimDecision.OpenRun.State(rawValue: try row.string("state")) else {
                throw JobError(.corruptState, "job \(job): a run has an unknown kind or state")
            }
            return ClaimDecision.OpenRun(
                slotKey: try row.string("slot_key"), slotAt: SlotTime.millisNearest(try row.date("slot_at")), kind: kind, state: state,
                fencingToken: try row.int("fencing_token"), holder: try row.optionalString("holder"), claimID: try row.optionalUUID("claim_id"),
                leaseExpiresAt: try row.optionalDate("lease_expires_at").map(SlotTime.millisNearest), takeovers: Int(try row.int("takeovers")),
                createdAt: SlotTime.millisNearest(try row.date("created_at"))
            )
        }
    }

    /// Takes over an open run (dead or handed back: `fencing_token + 1`) or starts a pending
    /// manual one, conditional on the token read under the job's lock.
    static func reopen(
        _ run: ClaimDecision.OpenRun, rules: ClaimRules, node: String, claimID: UUID, expires: Date, now: Date, crashed: Bool, on db: any SQLExecutor
    ) async throws -> Claim? {
        let row = try await db.first("""
            UPDATE job_runs SET state = 'running', holder = \(node), claim_id = \(claimID), fencing_token = fencing_token + 1,
                takeovers = takeovers + \(crashed ? 1 : 0), lease_expires_at = \(expires), started_at = \(now), error = NULL
            WHERE job = \(rules.job) AND slot_key = \(run.slotKey) AND fencing_token = \(run.fencingToken)
                AND state IN ('pending', 'running', 'released')
            RETURNING fencing_token, missed_slots
            """)
        guard let row else { return nil }
        return Claim(
            job: rules.job, slotKey: run.slotKey, slotAt: SlotTime.date(run.slotAt), kind: run.kind, fencingToken: try row.int("fencing_token"),
            claimID: claimID, takenOver: run.state != .pending, missedSlots: Int(try row.int("missed_slots"))
        )
    }

    // MARK: Holding

    /// Extends the lease to `now + lease` if this claim still holds the slot; `false` if another
    /// holder (or fencing token) has it now. A run its body already completed
    /// (``JobContext/completingTransaction(_:)``) still counts as held until the outcome is written.
    public func renew(_ claim: Claim, node: String, now: Date, lease: Duration) async throws -> Bool {
        let expires = now + lease
        return try await database.transaction(Self.idempotent) { db in
            try await db.first("""
                UPDATE job_runs SET lease_expires_at = \(expires)
                WHERE job = \(claim.job) AND slot_key = \(claim.slotKey) AND claim_id = \(claim.claimID)
                    AND fencing_token = \(claim.fencingToken) AND holder = \(node) AND state IN ('running', 'succeeded')
                RETURNING fencing_token
                """) != nil
        }
    }

    /// Records how the run ended, if this claim still holds the slot; `false` if it was refused.
    /// Repeating it (after an ambiguous failure) changes nothing and still answers `true`.
    public func finish(_ claim: Claim, outcome: RunOutcome, duration: Duration, now: Date) async throws -> Bool {
        let durationMillis = max(0, duration.totalMilliseconds)
        let error: SQLValue = outcome.error.map { .text($0) } ?? .null
        return try await database.transaction(Self.idempotent) { db in
            let row = try await db.first("""
                UPDATE job_runs SET state = \(outcome.state), finished_at = \(now), lease_expires_at = NULL, error = \(error),
                    duration_ms = \(durationMillis)
                WHERE job = \(claim.job) AND slot_key = \(claim.slotKey) AND claim_id = \(claim.claimID)
                    AND fencing_token = \(claim.fencingToken) AND state IN ('running', \(outcome.state))
                RETURNING fencing_token
                """)
            return row != nil
        }
    }

    /// Hands the slot back (graceful shutdown): another node takes it over at once, with the
    /// next fencing token. `false` if the slot was no longer ours.
    public func release(_ claim: Claim, now: Date) async throws -> Bool {
        try await database.transaction(Self.idempotent) { db in
            try await db.first("""
                UPDATE job_runs SET state = 'released', lease_expires_at = \(now), error = 'handed back at shutdown'
                WHERE job = \(claim.job) AND slot_key = \(claim.slotKey) AND claim_id = \(claim.claimID)
                    AND fencing_token = \(claim.fencingToken) AND state IN ('running', 'released')
                RETURNING fencing_token
                """) != nil
        }
    }

    /// Inside a transaction: throws ``JobError`` `fenced` unless `claim` still holds its slot —
    /// its fencing token is current and the run is still running. On PostgreSQL the row stays
    /// locked until the transaction ends, so no takeover can slip in between check and commit;
    /// on SQLite the transaction is exclusive.
    public static func checkFence(_ claim: Claim, on db: any SQLExecutor) async throws {
        let lock: SQL = db.dialect == .postgres ? " FOR UPDATE" : ""
        let row = try await db.first("""
            SELECT fencing_token, state FROM job_runs WHERE job = \(claim.job) AND slot_key = \(claim.slotKey)\(lock)
            """)
        guard let row, try row.int("fencing_token") == claim.fencingToken, try row.string("state") == "running" else {
            throw JobError.fenced(job: claim.job, slotKey: claim.slotKey, token: claim.fencingToken)
        }
    }

    /// Inside a transaction: like ``checkFence(_:on:)``, but answers `false` (instead of throwing)
    /// when this very claim already completed the run — so a completing transaction repeated after
    /// an ambiguous failure does nothing the second time.
    static func checkFenceForCompletion(_ claim: Claim, on db: any SQLExecutor) async throws -> Bool {
        let lock: SQL = db.dialect == .postgres ? " FOR UPDATE" : ""
        let row = try await db.first("""
            SELECT fencing_token, state, claim_id FROM job_runs WHERE job = \(claim.job) AND slot_key = \(claim.slotKey)\(lock)
            """)
        guard let row, try row.int("fencing_token") == claim.fencingToken else {
            throw JobError.fenced(job: claim.job, slotKey: claim.slotKey, token: claim.fencingToken)
        }
        switch try row.string("state") {
        case "running": return true
        case "succeeded" where try row.optionalUUID("claim_id") == claim.claimID: return false
        default: throw JobError.fenced(job: claim.job, slotKey: claim.slotKey, token: claim.fencingToken)
        }
    }

    /// Inside a transaction: marks the run succeeded (its holder still writes the duration later).
    static func complete(_ claim: Claim, now: Date, on db: any SQLExecutor) async throws {
        try await db.query("""
            UPDATE job_runs SET state = 'succeeded', finished_at = \(now), error = NULL
            WHERE job = \(claim.job) AND slot_key = \(claim.slotKey) AND claim_id = \(claim.claimID)
                AND fencing_token = \(claim.fencingToken) AND state = 'running'
            """)
    }

    // MARK: Polling and manual runs

    /// Jobs with work another node left: a lease expired by `now`, a slot handed back, or a
    /// pending manual run. One indexed query per poll.
    public func jobsWithOpenWork(now: Date) async throws -> Set<String> {
        let rows = try await database.read("""
            SELECT DISTINCT job FROM job_runs
            WHERE state IN ('pending', 'running', 'released') AND (state <> 'running' OR lease_expires_at < \(now))
            """)
        return Set(try rows.map { try $0.string("job") })
    }

    /// Queues a manual run of `job`; some node's scheduler claims it exactly once (like any slot).
    /// Returns its slot key (`manual:<uuid>`).
    /// `alsoRecord` runs in the same transaction with the new slot key (the audit trail's event).
    public func requestRun(
        job: String, requestedBy: String, now: Date, alsoRecord: (@Sendable (any SQLExecutor, String) async throws -> Void)? = nil
    ) async throws -> String {
        let key = "manual:\(UUID().uuidString.lowercased())"
        try await database.transaction { db in
            guard try await db.first("SELECT name FROM scheduler_jobs WHERE name = \(job)") != nil else {
                throw JobError(.unknownJob, "no node has published a job named \(job)")
            }
            try await db.query("""
                INSERT INTO job_runs (job, slot_key, slot_at, kind, state, fencing_token, requested_by, created_at)
                VALUES (\(job), \(key), \(now), 'manual', 'pending', 0, \(requestedBy), \(now))
                """)
            try await alsoRecord?(db, key)
        }
        return key
    }

    // MARK: Retention

    /// Deletes finished runs and heartbeat records older than `before`; returns how many runs.
    @discardableResult
    public func prune(before: Date) async throws -> Int {
        try await database.transaction(Self.idempotent) { db in
            try await db.query("DELETE FROM job_heartbeats WHERE recorded_at < \(before)")
            return try await db.query("""
                DELETE FROM job_runs WHERE finished_at < \(before)
                    AND state IN ('succeeded', 'failed', 'timed_out', 'abandoned')
                RETURNING slot_key
                """).count
        }
    }
}
