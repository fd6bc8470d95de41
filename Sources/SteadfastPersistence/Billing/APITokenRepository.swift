import Foundation

/// Staff API tokens (`api_tokens`). Only the SHA-256 of a token is stored, so a leaked table
/// cannot be used to call the API.
public struct APITokenRepository: Sendable {
    /// A token's record (never the token itself).
    public struct Record: Sendable, Hashable {
        public let id: UUID
        public let name: String
        public let accountID: UUID
        public let createdAt: Date
        public let lastUsedAt: Date?
        public let revokedAt: Date?

        public init(id: UUID, name: String, accountID: UUID, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?) {
            self.id = id
            self.name = name
            self.accountID = accountID
            self.createdAt = createdAt
            self.lastUsedAt = lastUsedAt
            self.revokedAt = revokedAt
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(id: UUID, name: String, tokenHash: String, accountID: UUID, now: Date) async throws {
        try await db.query("""
            INSERT INTO api_tokens (id, name, token_hash, account_id, created_at) VALUES (\(id), \(name), \(tokenHash), \(accountID), \(now))
            """)
    }

    /// The live (not revoked) token with this hash.
    public func find(tokenHash: String) async throws -> Record? {
        try await db.first("SELECT * FROM api_tokens WHERE token_hash = \(tokenHash) AND revoked_at IS NULL").map(Self.record)
    }

    public func list() async throws -> [Record] {
        try await db.query("SELECT * FROM api_tokens ORDER BY created_at DESC, id").map(Self.record)
    }

    /// Revokes a token; `false` if there is no live token with this id.
    public func revoke(id: UUID, now: Date) async throws -> Bool {
        !(try await db.query("UPDATE api_tokens SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING id")).isEmpty
    }

    /// Records use, at most once a minute per token (reads must not write on every request).
    public func touch(id: UUID, now: Date) async throws {
        try await db.query("""
            UPDATE api_tokens SET last_used_at = \(now) WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < \(now.addingTimeInterval(-60)))
            """)
    }

    static func record(_ row: SQLRow) throws -> Record {
        Record(
            id: try row.uuid("id"), name: try row.string("name"), accountID: try row.uuid("account_id"), createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at")
        )
    }
}
