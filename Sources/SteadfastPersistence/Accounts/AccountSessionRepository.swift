import Foundation

/// An account's view of its rows in `sessions` (docs/accounts.md): list them, end one, end all
/// but the current one. Ending a session turns it into the same tombstone as a log-out, so a
/// request in flight on another node cannot bring it back, and every node sees it at once
/// (sessions are read from the database on every request).
public struct AccountSessionRepository: Sendable {
    /// One live session of an account.
    public struct Entry: Sendable, Equatable {
        public let id: UUID
        public let createdAt: Date
        public let lastWriteAt: Date
        public let expiresAt: Date
        /// Whether this is the session the listing request came with.
        public let isCurrent: Bool
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// The account's live sessions, newest first, at most `limit`.
    public func list(accountID: UUID, currentIDHash: String?, now: Date, limit: Int = 100) async throws -> [Entry] {
        try await db.query("""
            SELECT public_id, id_hash, created_at, updated_at, expires_at FROM sessions
            WHERE account_id = \(accountID) AND data <> '' AND expires_at > \(now)
            ORDER BY created_at DESC LIMIT \(limit)
            """).map { row in
            Entry(
                id: try row.uuid("public_id"), createdAt: try row.date("created_at"), lastWriteAt: try row.date("updated_at"),
                expiresAt: try row.date("expires_at"), isCurrent: try row.string("id_hash") == currentIDHash
            )
        }
    }

    /// Ends the account's session `id`; `false` when the account has no live session with that
    /// id (another account's session is "not found", never ended).
    public func end(id: UUID, accountID: UUID, now: Date) async throws -> Bool {
        let rows = try await db.query("""
            UPDATE sessions SET data = '', updated_at = \(now)
            WHERE public_id = \(id) AND account_id = \(accountID) AND data <> '' AND expires_at > \(now)
            RETURNING id_hash
            """)
        return !rows.isEmpty
    }

    /// Ends every live session of the account except the one whose key hashes to `exceptIDHash`;
    /// returns how many.
    @discardableResult
    public func endAll(accountID: UUID, exceptIDHash: String?, now: Date) async throws -> Int {
        try await db.query("""
            UPDATE sessions SET data = '', updated_at = \(now)
            WHERE account_id = \(accountID) AND data <> '' AND id_hash <> \(exceptIDHash ?? "")
            RETURNING id_hash
            """).count
    }
}
