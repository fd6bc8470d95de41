import Foundation
import SteadfastDomain
@testable import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// The short staff lists (docs/support.md, "Short lists") hold at most ``ShortList/limit`` rows:
/// the one complete page shows every row, and creating one more at the cap is refused (409)
/// without writing a row or an audit event.
@Suite struct ShortListCapTests {
    /// For each list, on both engines: filled directly to one below the cap, one more through the
    /// service is created and shown; at the cap the next is refused with the list's message, and
    /// neither the table nor the audit trail changes.
    @Test(arguments: EngineKind.allCases)
    func aFullListRefusesOneMoreAndWritesNothing(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try ContentServiceTests.Fixture(db: db)
            let tickets = f.support.tickets, content = f.content
            let accounts = AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: f.support.clock)
            let staff = try await f.support.account(.staff, "Sam")
            let now = f.support.clock.now()
            for list in ShortList.allCases {
                let fill: @Sendable (any SQLExecutor, Int) async throws -> Void
                let create: @Sendable (String) async throws -> UUID
                let shown: @Sendable () async throws -> [UUID]
                switch list {
                case .departments:
                    fill = { tx, i in try await DepartmentRepository(tx).insert(Department(id: UUID(), name: "D\(i)", email: try EmailAddress("d\(i)@example.com"), isPublic: true, createdAt: now)) }
                    create = { try await tickets.createDepartment(by: staff, name: $0, email: "\($0)@example.com", isPublic: true).id }
                    shown = { try await tickets.departments(for: staff).map(\.id) }
                case .cannedReplies:
                    fill = { tx, i in try await DepartmentRepository(tx).insert(CannedReply(id: UUID(), title: "R\(i)", body: "b", createdAt: now)) }
                    create = { try await tickets.createCannedReply(by: staff, title: $0, body: "text").id }
                    shown = { try await tickets.cannedReplies(for: staff).map(\.id) }
                case .staffRoles:
                    fill = { tx, i in _ = try await StaffRepository(tx).insert(StaffRole(id: UUID(), name: "Role \(i)", permissions: [], builtIn: false), now: now) }
                    create = { try await accounts.createStaffRole(by: staff, name: $0, permissions: ["support.reply"]).id }
                    shown = { try await accounts.staffRoles().map(\.id) }
                case .kbCategories:
                    fill = { tx, i in try await ContentRepository(tx).insert(KBCategory(id: UUID(), name: "C\(i)", slug: "c-\(i)", description: "", createdAt: now)) }
                    create = { try await content.createCategory(by: staff, name: $0, slug: nil, description: nil).id }
                    shown = { try await content.categories(for: ContentReader(account: staff)).map(\.category.id) }
                case .downloadCategories:
                    fill = { tx, i in try await ContentRepository(tx).insert(DownloadCategory(id: UUID(), name: "C\(i)", description: "", createdAt: now)) }
                    create = { try await content.createDownloadCategory(by: staff, name: $0, description: nil).id }
                    shown = { try await content.downloadCategories().map(\.id) }
                }
                try await db.transaction { tx in
                    var rows = try await Self.count(list.table, tx)
                    while rows < ShortList.limit - 1 {
                        try await fill(tx, rows)
                        rows += 1
                    }
                }

                // Below the cap: created, audited, and on the one page.
                let audited = try await Self.count("audit_events", db)
                let last = try await create("last")
                #expect(try await Self.count(list.table, db) == ShortList.limit, "\(list)")
                #expect(try await Self.count("audit_events", db) == audited + 1, "\(list)")
                let page = try await shown()
                #expect(page.count == ShortList.limit && page.contains(last), "\(list)")

                // At the cap: refused as a conflict naming the limit; nothing written.
                let error = await #expect(throws: (any Error).self, "\(list)") { _ = try await create("refused") }
                let refusal = (error as? SupportError).map { ($0.kind == .conflict, $0.message) } ?? (error as? BillingError).map { ($0.kind == .conflict, $0.message) }
                #expect(refusal?.0 == true && refusal?.1 == list.fullMessage, "\(list): \(String(describing: error))")
                #expect(list.fullMessage.contains("\(ShortList.limit)"))
                #expect(try await Self.count(list.table, db) == ShortList.limit, "\(list)")
                #expect(try await Self.count("audit_events", db) == audited + 1, "\(list)")
                #expect(try await shown() == page, "\(list)")
            }
        }
    }

    static func count(_ table: SQL, _ db: any SQLExecutor) async throws -> Int {
        Int(try await db.first("SELECT COUNT(*) AS n FROM \(table)")?.int("n") ?? -1)
    }
}
