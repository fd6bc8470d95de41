import Foundation
import SteadfastDomain

/// Staff roles, who holds them, and disabled accounts (migration 620, docs/accounts.md).
public struct StaffRepository: Sendable {
    /// A staff account as the staff list shows it.
    public struct Member: Sendable, Equatable {
        public let id: UUID
        public let name: String
        public let email: String
        public let disabledAt: Date?
        public let roleIDs: [UUID]

        public init(id: UUID, name: String, email: String, disabledAt: Date?, roleIDs: [UUID]) {
            self.id = id
            self.name = name
            self.email = email
            self.disabledAt = disabledAt
            self.roleIDs = roleIDs
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// The permissions of `accountID`: the union of its roles'. One query, run on every staff
    /// request (no node keeps a copy that could lag behind a change on another node).
    /// A request reads them with its account instead (``AccountRepository/findForRequest(id:)``).
    public func permissions(accountID: UUID) async throws -> Set<StaffPermission> {
        let row = try await db.first("SELECT \(Self.permissionsColumn(of: "\(accountID)", db.dialect))")
        return Self.permissions(aggregated: try row?.optionalString("staff_permissions"))
    }

    /// A column `staff_permissions` with the permissions of `account`'s roles (`account` is an
    /// expression giving an account id): each role's permission names, or `*` for a built-in
    /// role (it has them all), joined by spaces; NULL without roles. Read by ``permissions(aggregated:)``.
    static func permissionsColumn(of account: SQL, _ dialect: SQLDialect) -> SQL {
        let aggregate: SQL = dialect == .postgres ? "string_agg" : "group_concat"
        return """
            (SELECT \(aggregate)(CASE WHEN r.built_in THEN '*' ELSE r.permissions END, ' ')
             FROM staff_role_members m JOIN staff_roles r ON r.id = m.role_id WHERE m.account_id = \(account)) AS staff_permissions
            """
    }

    /// The union of the roles' permissions in a ``permissionsColumn(of:_:)`` value.
    static func permissions(aggregated text: String?) -> Set<StaffPermission> {
        guard let text else { return [] }
        if text.split(separator: " ").contains("*") { return Set(StaffPermission.allCases) }
        return StaffPermission.set(fromText: text)
    }

    public func roles() async throws -> [StaffRole] {
        try await db.query("SELECT * FROM staff_roles ORDER BY built_in DESC, name_normalized LIMIT \(ShortList.limit)").map(Self.role)
    }

    /// Inserts a role; a taken name (case-insensitive) is `false`.
    public func insert(_ role: StaffRole, now: Date) async throws -> Bool {
        do {
            try await db.query("""
                INSERT INTO staff_roles (id, name, name_normalized, permissions, built_in, created_at)
                VALUES (\(role.id), \(role.name), \(role.name.lowercased()), \(StaffPermission.text(role.permissions)), \(false), \(now))
                """)
            return true
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            return false
        }
    }

    /// Staff accounts with their role ids, by name, one page.
    /// What the staff list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("name", "LOWER(name)"), .init("email", "email_normalized"),
        .init("status", "CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END"), .init("created", "created_at", first: .desc),
    ], default: ListSort("name", .asc), tieBreaker: "id")

    /// Members of staff, by name unless `sort` says otherwise; `disabled` true or false keeps
    /// only the disabled or the active ones.
    public func members(disabled: Bool? = nil, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Member] {
        let filter: SQL = switch disabled {
        case nil: ""
        case true?: "AND disabled_at IS NOT NULL"
        case false?: "AND disabled_at IS NULL"
        }
        var members: [Member] = []
        for row in try await db.query("""
            SELECT id, name, email, disabled_at FROM accounts WHERE role = 'staff' \(filter)
            ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """) {
            members.append(try await member(row))
        }
        return members
    }

    public func member(id: UUID) async throws -> Member? {
        guard let row = try await db.first("SELECT id, name, email, disabled_at FROM accounts WHERE id = \(id) AND role = 'staff'") else { return nil }
        return try await member(row)
    }

    func member(_ row: SQLRow) async throws -> Member {
        let id = try row.uuid("id")
        return Member(
            id: id, name: try row.string("name"), email: try row.string("email"), disabledAt: try row.optionalDate("disabled_at"),
            roleIDs: try await roleIDs(accountID: id)
        )
    }

    func roleIDs(accountID: UUID) async throws -> [UUID] {
        try await db.query("SELECT role_id FROM staff_role_members WHERE account_id = \(accountID) ORDER BY role_id").map { try $0.uuid("role_id") }
    }

    /// Replaces the account's roles.
    public func setRoles(accountID: UUID, roleIDs: Set<UUID>) async throws {
        try await db.query("DELETE FROM staff_role_members WHERE account_id = \(accountID)")
        for roleID in roleIDs.sorted(by: { $0.uuidString < $1.uuidString }) {
            try await db.query("INSERT INTO staff_role_members (account_id, role_id) VALUES (\(accountID), \(roleID))")
        }
    }

    /// Disables (a date) or enables (`nil`) a staff account.
    public func setDisabled(accountID: UUID, at date: Date?, now: Date) async throws {
        try await db.query("UPDATE accounts SET disabled_at = \(date), updated_at = \(now) WHERE id = \(accountID) AND role = 'staff'")
    }

    /// How many enabled staff accounts hold the built-in full-access role besides `exceptAccountID`.
    public func otherEnabledFullAccessCount(exceptAccountID: UUID) async throws -> Int {
        let row = try await db.first("""
            SELECT COUNT(*) AS n FROM staff_role_members m JOIN accounts a ON a.id = m.account_id
            WHERE m.role_id = \(StaffRole.fullAccessID) AND a.disabled_at IS NULL AND a.id <> \(exceptAccountID)
            """)
        return Int(try row?.int("n") ?? 0)
    }

    static func role(_ row: SQLRow) throws -> StaffRole {
        StaffRole(
            id: try row.uuid("id"), name: try row.string("name"), permissions: StaffPermission.set(fromText: try row.string("permissions")),
            builtIn: try row.bool("built_in")
        )
    }
}
