import Logging
import ServiceLifecycle
import SteadfastDomain
import SteadfastPersistence

/// Deletes expired session rows every `interval`. Every node runs it; the delete is idempotent,
/// so several nodes doing it at once is harmless (the scheduler can take it over later).
public struct SessionCleanupService: Service {
    let records: SessionRecordRepository
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    public init(database: any SQLDatabase, clock: any WallClock = SystemWallClock(), interval: Duration, logger: Logger) {
        self.records = SessionRecordRepository(database: database)
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let interval = self.interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            await runOnce()
        }
    }

    /// One clean-up pass; failures are logged, never fatal.
    public func runOnce() async {
        do {
            let deleted = try await records.deleteExpired(now: clock.now())
            if deleted > 0 {
                logger.info("deleted expired sessions", metadata: ["steadfast.sessions.deleted": "\(deleted)"])
            }
        } catch {
            logger.warning("session clean-up failed", metadata: ["error": "\(error)"])
        }
    }
}
