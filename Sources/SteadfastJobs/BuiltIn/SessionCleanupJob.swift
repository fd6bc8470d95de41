import SteadfastPersistence

/// `session-cleanup`: deletes expired session rows, ended rate-limit windows and expired account link tokens — once per interval for the whole cluster,
/// where every node used to do it on its own timer.
public enum SessionCleanupJob {
    public static let name = "session-cleanup"

    /// Every `interval` (`session.cleanup_interval`); missed slots coalesce into one run.
    public static func definition(database: any SQLDatabase, interval: Duration) -> JobDefinition {
        JobDefinition(name, schedule: .every(interval), timeout: .seconds(300), catchUp: .runOnce) { context in
            let deleted = try await SessionRecordRepository(database: database).deleteExpired(now: context.clock.now())
            if deleted > 0 {
                context.logger.info("deleted expired sessions", metadata: ["steadfast.sessions.deleted": "\(deleted)"])
            }
            // Rate-limit counters of windows that have ended are dead weight too.
            try await RateLimitRepository(database).deleteExpired(now: context.clock.now())
            // So are reset and verification links past their expiry (docs/accounts.md).
            try await AccountSelfServiceRepository(database).deleteExpiredTokens(before: context.clock.now())
        }
    }
}
