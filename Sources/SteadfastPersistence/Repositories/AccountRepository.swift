import Foundation
import SteadfastDomain

/// Stores and finds ``Account``s.
public struct AccountRepository: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// Inserts a new account; a taken e-mail address becomes ``AccountError/duplicateEmail``.
    public func insert(_ account: Account) async throws {
        try await Self.insert(account, into: database)
    }

    /// Inserts through `db` (a caller's transaction); see ``insert(_:)``.
    public static func insert(_ account: Account, into db: any SQLExecutor) async throws {
        do {
            try await db.query("""
                INSERT INTO accounts (id, email, email_normalized, name, role, password_hash, created_at, updated_at)
                VALUES (\(account.id), \(account.email.value), \(account.email.normalized), \(account.name),
                        \(account.role.rawValue), \(account.passwordHash), \(account.createdAt), \(account.createdAt))
                """)
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw AccountError.duplicateEmail
        }
    }

    /// An account with, for a client's user, the client it acts for and its permissions
    /// (`client_users`, migration 670), read in the same query.
    public func find(id: UUID) async throws -> Account? {
        try await database.readFirst("SELECT \(Self.columns) FROM accounts a \(Self.joins) WHERE a.id = \(id)").map(Self.account)
    }

    public func find(email: EmailAddress) async throws -> Account? {
        try await database.readFirst("SELECT \(Self.columns) FROM accounts a \(Self.joins) WHERE a.email_normalized = \(email.normalized)").map(Self.account)
    }

    /// The account as a request acts with it: with, for staff, its roles' permissions
    /// (``Account/permissions``), all in one query.
    public func findForRequest(id: UUID) async throws -> Account? {
        try await database.readFirst("""
            SELECT \(Self.requestColumns(database.dialect)) FROM accounts a \(Self.joins) WHERE a.id = \(id)
            """).map(Self.requestAccount)
    }

    /// How many accounts have `role`.
    public func count(role: Role) async throws -> Int {
        let row = try await database.readFirst("SELECT COUNT(*) AS n FROM accounts WHERE role = \(role.rawValue)")
        return Int(try row?.int("n") ?? 0)
    }

    /// What a query selects to make an ``Account`` with ``account(_:)``: the account `a` and,
    /// for a client's user, its client `cu` (joined by ``joins``).
    static let columns: SQL = "a.*, cu.client_id AS client_user_of, cu.permissions AS client_user_permissions"
    /// The joins ``columns`` needs after `accounts a`.
    static let joins: SQL = "LEFT JOIN client_users cu ON cu.account_id = a.id"

    /// ``columns`` and the staff permissions (``StaffRepository/permissionsColumn(of:_:)``),
    /// for ``requestAccount(_:)``.
    static func requestColumns(_ dialect: SQLDialect) -> SQL {
        "\(columns), \(StaffRepository.permissionsColumn(of: "a.id", dialect))"
    }

    /// The account of a row with ``requestColumns(_:)``, with its staff permissions.
    static func requestAccount(_ row: SQLRow) throws -> Account {
        var account = try account(row)
        if account.role == .staff { account.permissions = StaffRepository.permissions(aggregated: try row.optionalString("staff_permissions")) }
        return account
    }

    static func account(_ row: SQLRow) throws -> Account {
        guard let role = Role(rawValue: try row.string("role")) else {
            throw DatabaseError(.decoding, message: "accounts.role holds an unknown role")
        }
        var account = Account(
            id: try row.uuid("id"),
            email: try EmailAddress(try row.string("email")),
            name: try row.string("name"),
            role: role,
            passwordHash: try row.string("password_hash"),
            createdAt: try row.date("created_at"),
            profile: AccountProfile(company: try row.string("company"), phone: try row.string("phone"), address: try row.string("address")),
            emailVerifiedAt: try row.optionalDate("email_verified_at"),
            twoFactorEnabled: !(try row.isNull("two_factor_enabled_at")),
            disabledAt: try row.optionalDate("disabled_at")
        )
        // A client's user acts for its client with what the owner granted (nothing unknown).
        if let owner = try row.optionalUUID("client_user_of") {
            account.clientOwnerID = owner
            account.clientPermissions = ClientPermission.set(fromText: try row.optionalString("client_user_permissions") ?? "")
        }
        return account
    }
}
