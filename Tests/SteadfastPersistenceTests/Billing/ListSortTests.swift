import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// The staff lists' sort allow-lists (`SortableColumns`): what reaches SQL is the repository's
/// literal for a known key, never the key itself; every order ends with a unique tie-breaker, so
/// pages of a sorted list neither repeat nor skip rows, on both engines.
@Suite("List sorting")
struct ListSortTests {
    @Test func onlyTheAllowListsLiteralsReachSQL() {
        let columns = InvoiceRepository.sortColumns
        let byClient = columns.orderBy(ListSort("client", .asc)).description
        #expect(byClient.contains("SELECT a.name FROM accounts a") && byClient.hasSuffix("id ASC"))
        // A key that is not in the list falls back to the default order; its text never appears.
        let hostile = columns.orderBy(ListSort("total; DROP TABLE invoices --", .desc)).description
        #expect(hostile == columns.orderBy(nil).description && !hostile.contains("DROP"))
        #expect(columns.orderBy(nil).description == "created_at DESC, id DESC")
        // Nullable columns sort their empty values last both ways.
        #expect(columns.orderBy(ListSort("number", .desc)).description.hasPrefix("CASE WHEN number IS NULL THEN 1 ELSE 0 END, number DESC"))
        for list in [ClientRepository.sortColumns, OrderRepository.sortColumns, ServiceRepository.sortColumns, PaymentRepository.sortColumns,
                     TicketRepository.sortColumns, MailOutboxRepository.sortColumns, StaffRepository.sortColumns,
                     CatalogueRepository.sortColumns, APITokenRepository.sortColumns] {
            #expect(Set(list.keys).count == list.keys.count)
            #expect(list.column(list.defaultSort.field) != nil)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func sortedPagesAreStableAndComplete(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            // Two clients with the same name and several invoices each: many equal sort keys.
            var expected: [UUID] = []
            for name in ["Zed", "Amy", "Amy"] {
                let client = try await f.client(name)
                for _ in 0..<2 { expected.append(f.invoiceID(try await f.order(product, for: client))) }
            }
            for sort in [ListSort("client", .asc), ListSort("client", .desc), ListSort("total", .desc), ListSort("status", .asc), ListSort("number", .asc)] {
                let seen = try await pageByPage(limit: 2) { try await InvoiceRepository(db).list(sort: sort, limit: $0, offset: $1) }
                #expect(seen.count == expected.count && Set(seen.map(\.id)) == Set(expected), "\(sort)")
                // The whole list in one query is the pages put together: no overlap, no gap.
                #expect(try await InvoiceRepository(db).list(sort: sort, limit: 100, offset: 0).map(\.id) == seen.map(\.id), "\(sort)")
            }
            let names = try await PortalFiguresRepository(db).accountNames(Set(try await InvoiceRepository(db).list(limit: 100).map(\.clientID)))
            let byClient = try await InvoiceRepository(db).list(sort: ListSort("client", .asc), limit: 100, offset: 0).map { names[$0.clientID] ?? "" }
            #expect(byClient == ["Amy", "Amy", "Amy", "Amy", "Zed", "Zed"])
            let byClientDesc = try await InvoiceRepository(db).list(sort: ListSort("client", .desc), limit: 100, offset: 0).map { names[$0.clientID] ?? "" }
            #expect(byClientDesc == ["Zed", "Zed", "Amy", "Amy", "Amy", "Amy"])
            // Products with equal names (and a product from above): pages by every column, both
            // ways, put together are the whole list; the state filter keeps what it names.
            for name in ["Amy", "Zed", "Amy", "Amy"] { _ = try await f.product(name: name) }
            let catalogue = CatalogueRepository(db)
            for column in CatalogueRepository.sortColumns.keys {
                for direction in SortDirection.allCases {
                    let sort = ListSort(column, direction)
                    let seen = try await pageByPage(limit: 2) { try await catalogue.list(sort: sort, limit: $0, offset: $1) }.map(\.id)
                    #expect(seen.count == 5 && Set(seen).count == 5, "\(sort)")
                    #expect(try await catalogue.list(sort: sort, limit: 100, offset: 0).map(\.id) == seen, "\(sort)")
                }
            }
            #expect(try await catalogue.list(sort: ListSort("name", .asc), limit: 100, offset: 0).map(\.name) == ["Amy", "Amy", "Amy", "Hosting", "Zed"])
            #expect(try await catalogue.list(sort: ListSort("name", .desc), limit: 100, offset: 0).map(\.name) == ["Zed", "Hosting", "Amy", "Amy", "Amy"])
            #expect(try await catalogue.list(state: .onSale, limit: 100, offset: 0).count == 5)
            #expect(try await catalogue.list(state: .retired, limit: 100, offset: 0).isEmpty)
            #expect(try await catalogue.list(state: .hidden, limit: 100, offset: 0).isEmpty)
            // API tokens of one account with equal names, some used, revoked or expired: pages by
            // every column, both ways, put together are the whole list; the state filter keeps what it names.
            let owner = try await f.client("Owner")
            let tokens = APITokenRepository(db)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            var tokenIDs: [UUID] = []
            for (index, name) in ["b", "a", "b", "a", "c"].enumerated() {
                let id = UUID()
                tokenIDs.append(id)
                try await tokens.insert(
                    id: id, name: name, tokenHash: "hash-\(index)", accountID: owner, scopes: [],
                    expiresAt: index == 1 ? now.addingTimeInterval(-60) : index == 2 ? now.addingTimeInterval(3600) : nil, now: now.addingTimeInterval(Double(index % 2) - 100)
                )
            }
            try await tokens.touch(id: tokenIDs[0], now: now)
            #expect(try await tokens.revoke(id: tokenIDs[3], accountID: owner, now: now))
            _ = try await tokens.insert(id: UUID(), name: "other", tokenHash: "hash-other", accountID: try await f.client("Other"), scopes: [], expiresAt: nil, now: now)
            for column in APITokenRepository.sortColumns.keys {
                for direction in SortDirection.allCases {
                    let sort = ListSort(column, direction)
                    let seen = try await pageByPage(limit: 2) { try await tokens.list(accountID: owner, state: nil, now: now, sort: sort, limit: $0, offset: $1) }.map(\.id)
                    #expect(seen.count == 5 && Set(seen) == Set(tokenIDs), "\(sort)")
                    #expect(try await tokens.list(accountID: owner, state: nil, now: now, sort: sort, limit: 100, offset: 0).map(\.id) == seen, "\(sort)")
                }
            }
            #expect(try await tokens.list(accountID: owner, state: nil, now: now, sort: ListSort("name", .asc), limit: 100, offset: 0).map(\.name) == ["a", "a", "b", "b", "c"])
            #expect(try await tokens.list(accountID: owner, state: nil, now: now, sort: ListSort("name", .desc), limit: 100, offset: 0).map(\.name) == ["c", "b", "b", "a", "a"])
            #expect(try await tokens.list(accountID: owner, state: nil, now: now, sort: ListSort("used", .desc), limit: 100, offset: 0).first?.id == tokenIDs[0])
            #expect(try await tokens.list(accountID: owner, state: nil, now: now, sort: ListSort("used", .asc), limit: 100, offset: 0).first?.id == tokenIDs[0])
            #expect(try await tokens.list(accountID: owner, state: nil, now: now, sort: ListSort("state", .desc), limit: 100, offset: 0).first?.id == tokenIDs[3])
            #expect(Set(try await tokens.list(accountID: owner, state: .active, now: now, sort: nil, limit: 100, offset: 0).map(\.id)) == [tokenIDs[0], tokenIDs[2], tokenIDs[4]])
            #expect(try await tokens.list(accountID: owner, state: .revoked, now: now, sort: nil, limit: 100, offset: 0).map(\.id) == [tokenIDs[3]])
            #expect(try await tokens.list(accountID: owner, state: .expired, now: now, sort: nil, limit: 100, offset: 0).map(\.id) == [tokenIDs[1]])
            // Every staff list's every column runs on this engine.
            for column in ClientRepository.sortColumns.keys {
                for direction in SortDirection.allCases {
                    _ = try await ClientRepository(db).list(search: nil, sort: ListSort(column, direction), limit: 5, offset: 0)
                }
            }
            for direction in SortDirection.allCases {
                for column in OrderRepository.sortColumns.keys { _ = try await OrderRepository(db).list(sort: ListSort(column, direction), limit: 5) }
                for column in ServiceRepository.sortColumns.keys { _ = try await ServiceRepository(db).list(sort: ListSort(column, direction), limit: 5) }
                for column in PaymentRepository.sortColumns.keys { _ = try await PaymentRepository(db).list(sort: ListSort(column, direction), limit: 5) }
                for column in InvoiceRepository.sortColumns.keys { _ = try await InvoiceRepository(db).list(sort: ListSort(column, direction), limit: 5) }
                for column in TicketRepository.sortColumns.keys { _ = try await TicketRepository(db).list(.init(), sort: ListSort(column, direction), limit: 5, offset: 0) }
                for column in MailOutboxRepository.sortColumns.keys { _ = try await MailOutboxRepository(db).list(state: nil, sort: ListSort(column, direction), limit: 5, offset: 0) }
                for column in CatalogueRepository.sortColumns.keys {
                    for state in [nil] + CatalogueRepository.SaleState.allCases.map(Optional.some) {
                        _ = try await CatalogueRepository(db).list(state: state, sort: ListSort(column, direction), limit: 5, offset: 0)
                    }
                }
                for column in StaffRepository.sortColumns.keys {
                    for disabled in [nil, true, false] as [Bool?] {
                        _ = try await StaffRepository(db).members(disabled: disabled, sort: ListSort(column, direction), limit: 5, offset: 0)
                    }
                }
            }
        }
    }
}
