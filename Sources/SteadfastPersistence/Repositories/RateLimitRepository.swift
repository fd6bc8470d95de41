import Foundation

/// Rate-limit counters in the shared database (`rate_limit_counters`): one row per bucket
/// (kind and hashed key), holding the count of its current window. Every node increments the
/// same row, so a limit holds across the cluster; on one SQLite node it is that node's file.
public struct RateLimitRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Counts one event for `bucket` in window `window` and returns the window's count so far,
    /// this event included. One statement: concurrent events on any node never lose a count. A
    /// row from an earlier window starts again at 1; one from a later window (a node whose clock
    /// runs behind) keeps counting in that window.
    public func hit(bucket: String, window: Int64, expiresAt: Date) async throws -> Int64 {
        let row = try await db.first("""
            INSERT INTO rate_limit_counters (bucket, window_number, hits, expires_at) VALUES (\(bucket), \(window), 1, \(expiresAt))
            ON CONFLICT (bucket) DO UPDATE SET
                hits = CASE WHEN rate_limit_counters.window_number >= excluded.window_number THEN rate_limit_counters.hits + 1 ELSE 1 END,
                expires_at = CASE WHEN rate_limit_counters.window_number >= excluded.window_number THEN rate_limit_counters.expires_at ELSE excluded.expires_at END,
                window_number = CASE WHEN rate_limit_counters.window_number >= excluded.window_number THEN rate_limit_counters.window_number ELSE excluded.window_number END
            RETURNING hits
            """)
        return try row?.int("hits") ?? 1
    }

    /// Deletes counters whose window ended before `now`; returns how many.
    @discardableResult
    public func deleteExpired(now: Date) async throws -> Int {
        try await db.query("DELETE FROM rate_limit_counters WHERE expires_at <= \(now) RETURNING bucket").count
    }
}
