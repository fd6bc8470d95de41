import Foundation
import Logging
import SteadfastJobs
import SteadfastServices
import SteadfastStorage

/// Storage migrations as a scheduled job, so moving a file type to another target survives the
/// death of the node doing it: `steadfast storage migrate --background` queues the request and a
/// manual run; whichever node runs the job copies and verifies the files, switches the type,
/// and a slot cut short by a crash is taken over and resumes from what is already verified.
enum StorageJobs {
    static let name = "storage-migrations"

    /// `storage-migrations`, every minute (catching up once): works through every unfinished
    /// request. A request whose files did not all verify, or with files uploaded to the old
    /// target after the settle time, stays open and is retried on the next slot; the run is
    /// then recorded as failed with the reason.
    static func definition(queue: StorageMigrationQueue, registry: StorageRegistry, catalog: SQLFileCatalog, settleTime: Duration) -> JobDefinition {
        JobDefinition(name, schedule: .every(.seconds(60)), timeout: .seconds(12 * 3600), catchUp: .runOnce) { context in
            var unfinished: [String] = []
            for request in try await queue.open() {
                let outcome = try await migrate(
                    request, registry: registry, catalog: catalog, settleTime: settleTime, clock: context.clock.steady, logger: context.logger
                )
                try await queue.record(request, outcome: outcome.summary, finished: outcome.finished)
                if !outcome.finished { unfinished.append("\(request.type.rawValue) → \(request.target): \(outcome.summary)") }
            }
            guard unfinished.isEmpty else {
                throw StorageMigrationJobError(message: unfinished.joined(separator: "; "))
            }
        }
    }

    /// One request: the migrator's report as a line, and whether the type was switched. `clock`
    /// (the job's, its steady face) times the run: the settle time's waits sleep on it.
    static func migrate(
        _ request: StorageMigrationQueue.Request, registry: StorageRegistry, catalog: SQLFileCatalog, settleTime: Duration,
        clock: any Clock<Duration>, logger: Logger
    ) async throws -> (summary: String, finished: Bool) {
        guard registry.targets[request.target] != nil else {
            return ("this node has no storage target named \(request.target) (configured: \(registry.targetNames.joined(separator: ", ")))", false)
        }
        logger.notice("storage migration started", metadata: ["steadfast.storage.type": "\(request.type.rawValue)", "steadfast.storage.target": "\(request.target)"])
        let lastLogged = ProgressThrottle()
        let report = try await StorageMigrator(registry: registry, catalog: catalog, options: MigrationOptions(settleTime: settleTime, clock: clock), logger: logger).migrate(type: request.type, to: request.target) { progress in
            if lastLogged.due(every: .seconds(10)) {
                logger.info("storage migration progress", metadata: ["steadfast.storage.progress": "\(progress.rendered())"])
            }
        }
        var summary = report.summary
        if let failure = report.failures.first {
            summary += "; first failure: \(failure.key): \(failure.reason)"
        }
        summary += report.switched ? "; switched" : "; not switched"
        if report.leftOnOldTarget > 0 {
            summary += "; \(report.leftOnOldTarget) uploaded meanwhile still only on the old target (the next run copies them)"
        }
        logger.notice("storage migration finished", metadata: ["steadfast.storage.type": "\(request.type.rawValue)", "steadfast.storage.outcome": "\(summary)"])
        return (summary, report.isComplete)
    }
}

/// A storage migration that did not complete; the next slot resumes it.
struct StorageMigrationJobError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
