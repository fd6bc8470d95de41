import Foundation
import SteadfastDomain

/// Support departments and canned replies (the staff-managed lists of the support desk).
public struct DepartmentRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Inserts a department; an address another department has is a 409 naming `email`.
    public func insert(_ department: Department) async throws {
        do {
            try await db.query("""
                INSERT INTO support_departments (id, name, email, email_normalized, is_public, created_at)
                VALUES (\(department.id), \(department.name), \(department.email.value), \(department.email.normalized), \(department.isPublic), \(department.createdAt))
                """)
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw SupportError(.conflict, "another department already uses \(department.email.value)", field: "email")
        }
    }

    public func find(id: UUID) async throws -> Department? {
        try await db.first("SELECT * FROM support_departments WHERE id = \(id)").map(Self.department)
    }

    /// The department whose address is `email` (how mail sent to it finds it).
    public func find(email: EmailAddress) async throws -> Department? {
        try await db.first("SELECT * FROM support_departments WHERE email_normalized = \(email.normalized)").map(Self.department)
    }

    /// Every department (`publicOnly`: those clients may choose), by name.
    public func all(publicOnly: Bool) async throws -> [Department] {
        let filter: SQL = publicOnly ? "WHERE is_public = \(true)" : ""
        return try await db.query("SELECT * FROM support_departments \(filter) ORDER BY name, id LIMIT \(ShortList.limit)").map(Self.department)
    }

    static func department(_ row: SQLRow) throws -> Department {
        Department(
            id: try row.uuid("id"), name: try row.string("name"), email: try EmailAddress(try row.string("email")),
            isPublic: try row.bool("is_public"), createdAt: try row.date("created_at")
        )
    }

    // MARK: Canned replies

    public func insert(_ reply: CannedReply) async throws {
        try await db.query("INSERT INTO canned_replies (id, title, body, created_at) VALUES (\(reply.id), \(reply.title), \(reply.body), \(reply.createdAt))")
    }

    public func cannedReplies() async throws -> [CannedReply] {
        try await db.query("SELECT * FROM canned_replies ORDER BY title, id LIMIT \(ShortList.limit)").map { row in
            CannedReply(id: try row.uuid("id"), title: try row.string("title"), body: try row.string("body"), createdAt: try row.date("created_at"))
        }
    }

    public func deleteCannedReply(id: UUID) async throws -> Bool {
        !(try await db.query("DELETE FROM canned_replies WHERE id = \(id) RETURNING id")).isEmpty
    }
}
