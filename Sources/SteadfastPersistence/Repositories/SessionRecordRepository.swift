import Foundation

/// Rows of the `sessions` table: session data keyed by the SHA-256 of the session id.
///
/// A deleted (logged-out) session is not removed at once but turned into a tombstone
/// (`data = ''`) until it would have expired: a request still in flight on another node that
/// writes to the same session then finds the tombstone and cannot bring the session back.
public struct SessionRecordRepository: Sendable {
    /// A live session row.
    public struct Record: Sendable, Equatable {
        public var data: String
        public var expiresAt: Date
    }

    let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// The live (not expired, not deleted) record for `idHash`.
    public func find(idHash: String, now: Date) async throws -> Record? {
        let row = try await database.readFirst("""
            SELECT data, expires_at FROM sessions WHERE id_hash = \(idHash) AND expires_at > \(now) AND data <> ''
            """)
        return try row.map { Record(data: try $0.string("data"), expiresAt: try $0.date("expires_at")) }
    }

    /// Creates the row; returns `false` if a row (live or tombstone) with this hash exists.
    @discardableResult
    public func insert(idHash: String, data: String, expiresAt: Date, now: Date, accountID: UUID? = nil) async throws -> Bool {
        // `public_id` names the session in the account's session list (the hash never leaves the database).
        let rows = try await database.query("""
            INSERT INTO sessions (id_hash, data, expires_at, created_at, updated_at, account_id, public_id)
            VALUES (\(idHash), \(data), \(expiresAt), \(now), \(now), \(accountID), \(UUID()))
            ON CONFLICT (id_hash) DO NOTHING
            RETURNING id_hash
            """)
        return !rows.isEmpty
    }

    /// Updates a live row's data, and its expiry when `expiresAt` is given; returns `false` if
    /// there is no live row (never recreates a deleted session).
    @discardableResult
    public func update(idHash: String, data: String, expiresAt: Date?, now: Date) async throws -> Bool {
        let rows: [SQLRow]
        if let expiresAt {
            rows = try await database.query("""
                UPDATE sessions SET data = \(data), expires_at = \(expiresAt), updated_at = \(now)
                WHERE id_hash = \(idHash) AND data <> '' AND expires_at > \(now)
                RETURNING id_hash
                """)
        } else {
            rows = try await database.query("""
                UPDATE sessions SET data = \(data), updated_at = \(now)
                WHERE id_hash = \(idHash) AND data <> '' AND expires_at > \(now)
                RETURNING id_hash
                """)
        }
        return !rows.isEmpty
    }

    /// Turns the row into a tombstone (see the type's documentation).
    public func delete(idHash: String, now: Date) async throws {
        try await database.query("""
            UPDATE sessions SET data = '', updated_at = \(now) WHERE id_hash = \(idHash)
            """)
    }

    /// Deletes every row (live or tombstone) whose expiry has passed; returns how many.
    @discardableResult
    public func deleteExpired(now: Date) async throws -> Int {
        try await database.query("DELETE FROM sessions WHERE expires_at <= \(now) RETURNING id_hash").count
    }

    /// When the row was last written, for tests and diagnostics.
    public func lastWrite(idHash: String) async throws -> Date? {
        try await database.first("SELECT updated_at FROM sessions WHERE id_hash = \(idHash)").map { try $0.date("updated_at") }
    }
}
