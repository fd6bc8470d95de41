import Foundation
import SteadfastDomain

/// A client's users (sub-users, migration 670, docs/accounts.md "Client users"): who acts for
/// which client with which permissions. Each takes the executor it runs on, so a service groups
/// its writes in one transaction with the mail and the audit event they cause.
public struct ClientUserRepository: Sendable {
    /// A client's user as the owner's list shows it.
    public struct User: Sendable, Equatable {
        public let id: UUID
        public let clientID: UUID
        public let name: String
        public let email: String
        public let permissions: Set<ClientPermission>
        /// When the invitation was accepted; `nil`: invited, not yet accepted.
        public let acceptedAt: Date?
        public let disabledAt: Date?
        public let createdAt: Date

        public init(
            id: UUID, clientID: UUID, name: String, email: String, permissions: Set<ClientPermission>, acceptedAt: Date?, disabledAt: Date?, createdAt: Date
        ) {
            self.id = id
            self.clientID = clientID
            self.name = name
            self.email = email
            self.permissions = permissions
            self.acceptedAt = acceptedAt
            self.disabledAt = disabledAt
            self.createdAt = createdAt
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(accountID: UUID, clientID: UUID, permissions: Set<ClientPermission>, invitedBy: UUID, now: Date) async throws {
        try await db.query("""
            INSERT INTO client_users (account_id, client_id, permissions, invited_by, created_at)
            VALUES (\(accountID), \(clientID), \(ClientPermission.text(permissions)), \(invitedBy), \(now))
            """)
    }

    static let columns: SQL = """
        SELECT a.id, a.name, a.email, a.disabled_at, cu.client_id, cu.permissions, cu.accepted_at, cu.created_at
        FROM client_users cu JOIN accounts a ON a.id = cu.account_id
        """

    /// The client's users that were not removed, oldest first, one page.
    public func list(clientID: UUID, limit: Int, offset: Int) async throws -> [User] {
        try await db.query("""
            \(Self.columns) WHERE cu.client_id = \(clientID) AND cu.removed_at IS NULL
            ORDER BY cu.created_at, a.id LIMIT \(limit) OFFSET \(offset)
            """).map(Self.user)
    }

    /// One user of the client (not removed); another client's user is `nil`.
    public func find(id: UUID, clientID: UUID) async throws -> User? {
        try await db.first("""
            \(Self.columns) WHERE cu.account_id = \(id) AND cu.client_id = \(clientID) AND cu.removed_at IS NULL
            """).map(Self.user)
    }

    /// The invitation of `accountID` if it is not accepted yet and not removed.
    public func pending(accountID: UUID) async throws -> User? {
        try await db.first("""
            \(Self.columns) WHERE cu.account_id = \(accountID) AND cu.accepted_at IS NULL AND cu.removed_at IS NULL
            """).map(Self.user)
    }

    public func setPermissions(id: UUID, permissions: Set<ClientPermission>) async throws {
        try await db.query("UPDATE client_users SET permissions = \(ClientPermission.text(permissions)) WHERE account_id = \(id)")
    }

    public func markAccepted(id: UUID, now: Date) async throws {
        try await db.query("UPDATE client_users SET accepted_at = \(now) WHERE account_id = \(id) AND accepted_at IS NULL")
    }

    /// Removes the user: it leaves the owner's list, its account is disabled (it logs in
    /// nowhere) and keeps its history.
    public func markRemoved(id: UUID, now: Date) async throws {
        try await db.query("UPDATE client_users SET removed_at = \(now) WHERE account_id = \(id) AND removed_at IS NULL")
        try await setDisabled(id: id, at: now, now: now)
    }

    /// Disables (a date) or enables (`nil`) a client's user.
    public func setDisabled(id: UUID, at date: Date?, now: Date) async throws {
        try await db.query("""
            UPDATE accounts SET disabled_at = \(date), updated_at = \(now)
            WHERE id = \(id) AND role = 'client' AND id IN (SELECT account_id FROM client_users)
            """)
    }

    static func user(_ row: SQLRow) throws -> User {
        User(
            id: try row.uuid("id"), clientID: try row.uuid("client_id"), name: try row.string("name"), email: try row.string("email"),
            permissions: ClientPermission.set(fromText: try row.string("permissions")), acceptedAt: try row.optionalDate("accepted_at"),
            disabledAt: try row.optionalDate("disabled_at"), createdAt: try row.date("created_at")
        )
    }
}
