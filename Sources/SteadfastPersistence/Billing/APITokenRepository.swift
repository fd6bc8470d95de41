import Foundation
import SteadfastDomain

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
        /// The permissions the token may use (within its owner's); `nil`: a token made before
        /// scopes existed, which acts with its owner's permissions.
        public let scopes: Set<StaffPermission>?
        /// When the token stops working; `nil`: never.
        public let expiresAt: Date?

        public init(
            id: UUID, name: String, accountID: UUID, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?,
            scopes: Set<StaffPermission>? = nil, expiresAt: Date? = nil
        ) {
            self.id = id
            self.name = name
            self.accountID = accountID
            self.createdAt = createdAt
            self.lastUsedAt = lastUsedAt
            self.revokedAt = revokedAt
            self.scopes = scopes
            self.expiresAt = expiresAt
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(id: UUID, name: String, tokenHash: String, accountID: UUID, scopes: Set<StaffPermission>, expiresAt: Date?, now: Date) async throws {
        try await db.query("""
            INSERT INTO api_tokens (id, name, token_hash, account_id, scopes, expires_at, created_at)
            VALUES (\(id), \(name), \(tokenHash), \(accountID), \(StaffPermission.text(scopes)), \(expiresAt), \(now))
            """)
    }

    /// The live (not revoked) token with this hash.
    public func find(tokenHash: String) async throws -> Record? {
        try await db.first("SELECT * FROM api_tokens WHERE token_hash = \(tokenHash) AND revoked_at IS NULL").map(Self.record)
    }

    /// The tokens of `accountID`, newest first, at most `limit`.
    public func list(accountID: UUID, limit: Int = 200) async throws -> [Record] {
        try await db.query("SELECT * FROM api_tokens WHERE account_id = \(accountID) ORDER BY created_at DESC, id LIMIT \(limit)").map(Self.record)
    }

    /// What the staff token list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("name", "LOWER(name)"), .init("created", "created_at", first: .desc),
        .init("used", "last_used_at", first: .desc, nullable: true), .init("expires", "expires_at", nullable: true),
        .init("state", "CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END"),
    ], default: ListSort("created", .desc), tieBreaker: "id")

    /// Which tokens the staff list shows: usable now, revoked, or past their expiry (and not revoked).
    public enum State: String, Sendable, CaseIterable {
        case active, revoked, expired
    }

    /// One page of the tokens of `accountID`, optionally in one state (judged at `now`), newest
    /// first unless `sort` says otherwise.
    public func list(accountID: UUID, state: State?, now: Date, sort: ListSort?, limit: Int, offset: Int) async throws -> [Record] {
        let filter: SQL = switch state {
        case nil: ""
        case .active?: "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))"
        case .revoked?: "AND revoked_at IS NOT NULL"
        case .expired?: "AND revoked_at IS NULL AND expires_at <= \(now)"
        }
        return try await db.query("""
            SELECT * FROM api_tokens WHERE account_id = \(accountID) \(filter) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.record)
    }

    /// Revokes a token of `accountID`; `false` if it has no live token with this id (another
    /// account's token is "not found").
    public func revoke(id: UUID, accountID: UUID, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE api_tokens SET revoked_at = \(now) WHERE id = \(id) AND account_id = \(accountID) AND revoked_at IS NULL RETURNING id
            """)).isEmpty
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
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at"),
            scopes: try row.optionalString("scopes").map(StaffPermission.set(fromText:)), expiresAt: try row.optionalDate("expires_at")
        )
    }
}
