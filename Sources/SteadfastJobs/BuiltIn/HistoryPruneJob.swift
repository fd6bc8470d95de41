import Foundation
import SteadfastDomain

/// `jobs-history-prune`: deletes finished runs (and heartbeat records) older than the retention,
/// hourly, so `job_runs` stays small.
public enum HistoryPruneJob {
    public static let name = "jobs-history-prune"

    public static func definition(store: JobStore, retention: Duration) -> JobDefinition {
        JobDefinition(name, schedule: .every(.seconds(3600)), timeout: .seconds(300), catchUp: .runOnce) { context in
            let deleted = try await store.prune(before: context.clock.now() - retention)
            if deleted > 0 {
                context.logger.info("pruned old job runs", metadata: ["steadfast.jobs.pruned": "\(deleted)"])
            }
        }
    }
}
