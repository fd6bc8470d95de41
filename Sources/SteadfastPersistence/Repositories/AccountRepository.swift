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

    public func find(id: UUID) async throws -> Account? {
        try await database.readFirst("SELECT * FROM accounts WHERE id = \(id)").map(Self.account)
    }

    public func find(email: EmailAddress) async throws -> Account? {
        try await database.readFirst("SELECT * FROM accounts WHERE email_normalized = \(email.normalized)").map(Self.account)
    }

    /// How many accounts have `role`.
    public func count(role: Role) async throws -> Int {
        let row = try await database.readFirst("SELECT COUNT(*) AS n FROM accounts WHERE role = \(role.rawValue)")
        return Int(try row?.int("n") ?? 0)
    }

    static func account(_ row: SQLRow) throws -> Account {
        guard let role = Role(rawValue: try row.string("role")) else {
            throw DatabaseError(.decoding, message: "accounts.role holds an unknown role")
        }
        return Account(
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
    }
}
