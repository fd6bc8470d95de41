import Foundation
import Logging
import SteadfastDomain

/// Brings a database's schema up to date, exactly once per version even when several nodes start
/// against the same PostgreSQL at the same moment.
///
/// Everything happens in one transaction: on PostgreSQL it first takes a transaction-scoped
/// advisory lock, so a second node waits, then finds the versions already recorded and applies
/// nothing. DDL is transactional in both engines, so a failed migration leaves no half-made table.
public struct Migrator: Sendable {
    /// Advisory lock key: "steadfast" folded into 63 bits; any constant unique to us works.
    static let advisoryLockKey: Int64 = 0x5354_4541_4446_4153

    public let migrations: [Migration]
    public let nodeID: String
    public let clock: any WallClock

    public init(migrations: [Migration] = Schema.migrations, nodeID: String, clock: any WallClock = SystemWallClock()) {
        precondition(Set(migrations.map(\.version)).count == migrations.count, "duplicate migration version")
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.nodeID = nodeID
        self.clock = clock
    }

    /// Applies the missing migrations; returns the versions this call applied (empty if none).
    @discardableResult
    public func migrate(_ database: any SQLDatabase, logger: Logger) async throws -> [Int] {
        let migrations = self.migrations
        let nodeID = self.nodeID
        let now = clock.now()
        // Migrations may wait for another node's migration lock: allow more than a request's bound.
        let applied = try await database.transaction(TransactionOptions(timeout: .seconds(120))) { db in
            if db.dialect == .postgres {
                try await db.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey)) AS locked")
            }
            try await db.query(.trusted("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at \(db.dialect.timestampType) NOT NULL,
                    applied_by TEXT NOT NULL
                )
                """))
            let done = Set(try await db.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
            let known = Set(migrations.map { Int64($0.version) })
            if let unknown = done.subtracting(known).max() {
                throw DatabaseError(.configuration, message: "database has migration \(unknown), which this binary does not know; upgrade the binary")
            }
            var appliedNow: [Int] = []
            for migration in migrations where !done.contains(Int64(migration.version)) {
                for statement in migration.statements(db.dialect) {
                    try await db.query(.trusted(statement))
                }
                try await db.query("""
                    INSERT INTO schema_migrations (version, name, applied_at, applied_by)
                    VALUES (\(migration.version), \(migration.name), \(now), \(nodeID))
                    """)
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
        if applied.isEmpty {
            logger.info("database schema up to date", metadata: ["steadfast.schema.version": "\(migrations.last?.version ?? 0)"])
        } else {
            logger.notice("applied database migrations", metadata: ["steadfast.schema.applied": "\(applied)"])
        }
        return applied
    }
}
