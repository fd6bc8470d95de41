/// Migrations 300–399: the cluster-safe scheduler (`SteadfastJobs`).
///
/// - `scheduler_jobs`: one row per job the nodes run (published by every node at start), and the
///   job's schedule cursor `last_slot_at` — the latest scheduled slot claimed or deliberately
///   skipped. Claims lock this row, so one job's claims are decided one at a time.
/// - `job_runs`: one row per claimed occurrence, unique on `(job, slot_key)`; the holder's lease
///   and the slot's fencing token live here.
/// - `job_heartbeats`: what the diagnostic `heartbeat` job records (slot, node, token); it has no
///   unique key on purpose, so a slot recorded twice would show.
public enum SchedulerMigrations {
    public static let all: [Migration] = [
        Migration(version: 300, name: "scheduler: jobs, runs with leases and fencing tokens, heartbeats") { d in
            [
                """
                CREATE TABLE scheduler_jobs (
                    name TEXT PRIMARY KEY,
                    schedule TEXT NOT NULL,
                    catch_up TEXT NOT NULL,
                    timeout_ms \(d.bigintType) NOT NULL,
                    last_slot_at \(d.timestampType),
                    skipped_slots \(d.bigintType) NOT NULL DEFAULT 0,
                    published_at \(d.timestampType) NOT NULL,
                    published_by TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE job_runs (
                    job TEXT NOT NULL,
                    slot_key TEXT NOT NULL,
                    slot_at \(d.timestampType) NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'released', 'succeeded', 'failed', 'timed_out', 'abandoned')),
                    holder TEXT,
                    claim_id \(d.uuidType),
                    fencing_token \(d.bigintType) NOT NULL,
                    takeovers INTEGER NOT NULL DEFAULT 0,
                    lease_expires_at \(d.timestampType),
                    missed_slots \(d.bigintType) NOT NULL DEFAULT 0,
                    requested_by TEXT,
                    created_at \(d.timestampType) NOT NULL,
                    started_at \(d.timestampType),
                    finished_at \(d.timestampType),
                    duration_ms \(d.bigintType),
                    error TEXT,
                    CONSTRAINT job_runs_slot_unique PRIMARY KEY (job, slot_key)
                )
                """,
                "CREATE INDEX job_runs_open ON job_runs (job, slot_at) WHERE state IN ('pending', 'running', 'released')",
                "CREATE INDEX job_runs_history ON job_runs (job, slot_at)",
                "CREATE INDEX job_runs_finished ON job_runs (finished_at)",
                """
                CREATE TABLE job_heartbeats (
                    id \(d.uuidType) PRIMARY KEY,
                    job TEXT NOT NULL,
                    slot_key TEXT NOT NULL,
                    slot_at \(d.timestampType) NOT NULL,
                    node TEXT NOT NULL,
                    fencing_token \(d.bigintType) NOT NULL,
                    recorded_at \(d.timestampType) NOT NULL
                )
                """,
                "CREATE INDEX job_heartbeats_slot ON job_heartbeats (job, slot_at)",
            ]
        },
    ]
}
