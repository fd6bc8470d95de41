import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The staff audit list (`AuditEventRepository.sortColumns`, #16): by time both ways and by
/// action both ways, pages neither repeat nor skip events (equal times and equal actions are
/// broken by id), on both engines; filters still apply under every order.
extension ListSortTests {
    @Test func theAuditListsAllowListIsLiterals() {
        let columns = AuditEventRepository.sortColumns
        #expect(Set(columns.keys) == ["time", "action"])
        #expect(columns.orderBy(nil).description == "occurred_at DESC, id DESC")
        #expect(columns.orderBy(ListSort("action", .asc)).description == "action ASC, id ASC")
        #expect(columns.orderBy(ListSort("action; DROP TABLE audit_events", .asc)).description == columns.orderBy(nil).description)
    }

    @Test(arguments: EngineKind.allCases)
    func auditPagesAreStableAndComplete(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let repository = AuditEventRepository(db)
            let base = Date(timeIntervalSince1970: 1_800_000_000)
            // Seven events: three share one instant, actions repeat, two concern one invoice.
            let invoice = UUID()
            let plan: [(seconds: Double, action: String, object: AuditObject)] = [
                (0, "invoice.issued", AuditObject("invoice", invoice)), (10, "account.registered", AuditObject("account", UUID())),
                (10, "invoice.paid", AuditObject("invoice", invoice)), (10, "account.registered", AuditObject("account", UUID())),
                (20, "staff.changed", AuditObject("staff", UUID())), (30, "account.registered", AuditObject("account", UUID())),
                (40, "invoice.issued", AuditObject("invoice", UUID())),
            ]
            for step in plan {
                try await repository.insert(.init(
                    id: UUID(), occurredAt: base.addingTimeInterval(step.seconds), actor: .system, action: step.action, object: step.object,
                    accountID: nil, changes: "{}", amounts: "{}", ip: nil, nodeID: "n1", requestID: nil
                ))
            }
            for column in AuditEventRepository.sortColumns.keys {
                for direction in SortDirection.allCases {
                    let sort = ListSort(column, direction)
                    let seen = try await pageByPage(limit: 2) { try await repository.list(.init(), sort: sort, limit: $0, offset: $1) }
                    #expect(seen.count == 7 && Set(seen.map(\.id)).count == 7, "\(sort)")
                    #expect(try await repository.list(.init(), sort: sort, limit: 100, offset: 0).map(\.id) == seen.map(\.id), "\(sort)")
                    let keys = seen.map { column == "time" ? String(Int($0.occurredAt.timeIntervalSince(base))).padded : $0.action }
                    #expect(keys == (direction == .asc ? keys.sorted() : keys.sorted(by: >)), "\(sort): \(keys)")
                    // Filters hold under every order.
                    let filtered = try await repository.list(.init(object: "invoice:\(invoice.uuidString)"), sort: sort, limit: 100, offset: 0)
                    #expect(filtered.map(\.action).sorted() == ["invoice.issued", "invoice.paid"], "\(sort)")
                }
            }
            // Newest first unless asked otherwise; by action, A to Z.
            #expect(try await repository.list(.init(), limit: 1, offset: 0).first?.action == "invoice.issued")
            #expect(try await repository.list(.init(), limit: 1, offset: 0).first?.occurredAt == base.addingTimeInterval(40))
            #expect(try await repository.list(.init(), sort: ListSort("action", .asc), limit: 100, offset: 0).map(\.action) == [
                "account.registered", "account.registered", "account.registered", "invoice.issued", "invoice.issued", "invoice.paid", "staff.changed",
            ])
        }
    }
}

private extension String {
    /// Seconds as fixed-width text, so text order is number order.
    var padded: String { String(repeating: "0", count: max(0, 6 - count)) + self }
}
