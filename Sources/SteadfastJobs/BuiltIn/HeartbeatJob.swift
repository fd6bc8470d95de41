import Foundation
import SteadfastPersistence

/// `heartbeat`: a diagnostic job, off unless configured (`jobs.heartbeat.interval`), that records
/// each of its slots — slot, node, fencing token — in `job_heartbeats`, in the transaction that
/// completes the run (``JobContext/completingTransaction(_:)``: fenced, and never repeated once
/// committed). The live tests and the benchmark use it to show that every slot is recorded once.
///
/// With a `duration` it stands in for work stuck in a call it cannot interrupt: it waits that
/// long and then writes, *without* noticing cancellation. If its node is paused past the lease
/// and another node takes the slot over, the paused node's write still arrives when it resumes —
/// late — and is refused by the fencing token.
public enum HeartbeatJob {
    public static let name = "heartbeat"

    public static func definition(interval: Duration, duration: Duration = .zero, catchUp: CatchUpPolicy = .runAll) -> JobDefinition {
        JobDefinition(name, schedule: .every(interval), timeout: max(duration * 4, .seconds(30)), catchUp: catchUp) { context in
            guard duration > .zero else {
                try await record(context)
                return
            }
            // Deliberately out of reach of cancellation (see the type's documentation).
            try await Task.detached {
                try? await context.clock.sleep(for: duration)
                try await record(context)
            }.value
        }
    }

    static func record(_ context: JobContext) async throws {
        let claim = context.claim
        let node = context.node
        let now = context.clock.now()
        try await context.completingTransaction { db in
            try await db.query("""
                INSERT INTO job_heartbeats (id, job, slot_key, slot_at, node, fencing_token, recorded_at)
                VALUES (\(UUID()), \(claim.job), \(claim.slotKey), \(claim.slotAt), \(node), \(claim.fencingToken), \(now))
                """)
        }
    }
}
