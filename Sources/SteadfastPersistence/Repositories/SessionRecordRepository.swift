import Foundation
import SteadfastDomain

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
        /// The account the session belongs to (`sessions.account_id`) as a request acts with it
        /// (``AccountRepository/findForRequest(id:)``), read in the same query; `nil` if the
        /// row names none or it no longer exists.
        public var owner: Account? = nil
    }

    let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// The live (not expired, not deleted) record for `idHash`, with its owner: every request
    /// needs the session and its account, so one query reads both.
    public func find(idHash: String, now: Date) async throws -> Record? {
        let row = try await database.readFirst("""
            SELECT s.data AS session_data, s.expires_at AS session_expires_at, \(AccountRepository.requestColumns(database.dialect))
            FROM sessions s LEFT JOIN accounts a ON a.id = s.account_id \(AccountRepository.joins)
            WHERE s.id_hash = \(idHash) AND s.expires_at > \(now) AND s.data <> ''
            """)
        return try row.map { row in
            Record(
                data: try row.string("session_data"), expiresAt: try row.date("session_expires_at"),
                owner: try row.isNull("id") ? nil : try AccountRepository.requestAccount(row)
            )
        }
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
