import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import Testing
import SteadfastTestSupport

@Suite struct InvoiceNumberTests {
    @Test(arguments: EngineKind.allCases)
    func numbersIssuedConcurrentlyAreUniqueAndGapFree(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            var drafts: [UUID] = []
            for i in 0..<12 {
                let client = try await f.client("C\(i)")
                for _ in 0..<3 {
                    drafts.append(try await f.invoices.createDraft(
                        clientID: client, dueDate: nil, lines: [.init(description: "Work", amount: Money(minorUnits: 1000, currency: .eur))]
                    ).id)
                }
            }
            // One draft is issued inside a transaction that then fails: its number must come back.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await db.transaction { tx in
                    _ = try await InvoiceNumberRepository(tx).next(sequenceKey: InvoiceNumberFormat.standard.sequenceKey(for: f.today))
                    throw Abort()
                }
            }
            let numbers = try await withThrowingTaskGroup(of: String.self) { group in
                for id in drafts { group.addTask { try await f.invoices.issue(invoiceID: id).number! } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            let year = f.today.year
            #expect(Set(numbers).count == drafts.count)
            #expect(Set(numbers) == Set((1...drafts.count).map { String(format: "INV-\(year)-%06d", $0) }))
            #expect(try await f.invoices.invoice(id: drafts[0], clientID: nil).status == .unpaid)
            await #expect { try await f.invoices.issue(invoiceID: drafts[0]) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func staffInvoicesDraftLinesCancelAndCollections(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let client = try await f.client(country: "US", region: "NY")
            var draft = try await f.invoices.createDraft(clientID: client, dueDate: nil, lines: [.init(description: "Migration", amount: Money(minorUnits: 2000, currency: .eur))])
            #expect(draft.number == nil && draft.status == .draft)
            #expect(draft.tax.minorUnits == 178) // 8.875% of 20.00 = 1.775 → 1.78
            draft = try await f.invoices.addLines(invoiceID: draft.id, [.init(description: "Support", amount: Money(minorUnits: 1000, currency: .eur), taxable: false)])
            #expect(draft.total.minorUnits == 2000 + 178 + 1000)
            #expect(draft.lines.map(\.position) == [1, 2])
            let issued = try await f.invoices.issue(invoiceID: draft.id)
            await #expect { try await f.invoices.addLines(invoiceID: draft.id, [.init(description: "x", amount: Money(minorUnits: 1, currency: .eur))]) } throws: {
                ($0 as? BillingError)?.kind == .conflict
            }
            let collections = try await f.invoices.sendToCollections(invoiceID: issued.id)
            #expect(collections.status == .collections)
            let cancelled = try await f.invoices.cancel(invoiceID: issued.id)
            #expect(cancelled.status == .cancelled && cancelled.number == issued.number)
            await #expect { try await f.invoices.cancel(invoiceID: issued.id) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
            await #expect {
                try await f.invoices.createDraft(clientID: UUID(), dueDate: nil, lines: [.init(description: "x", amount: Money(minorUnits: 1, currency: .eur))])
            } throws: { ($0 as? BillingError)?.field == "client_id" }
        }
    }
}
