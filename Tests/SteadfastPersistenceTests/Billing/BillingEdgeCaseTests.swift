import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// Billing edge cases of issue 16 (item 6) on both engines: a cancelled renewal invoice does not
/// leave the service free, a cancelled service is no longer chased, and a late fee never changes
/// an issued total (docs/billing.md, "Edge cases").
@Suite struct BillingEdgeCaseTests {
    /// A client with one active monthly service and the renewal invoice of its next period (issued one day before it starts).
    static func renewal(_ f: BillingFixture) async throws -> (client: UUID, service: ClientService, invoice: Invoice) {
        let client = try await f.client()
        let service = try #require(try await f.activeServices(try await f.product(), for: client).first)
        f.clock.advance(days: f.today.days(until: try #require(service.nextDueDate)) - 1)
        #expect(try await f.recurring.runAll().renewalInvoices == 1)
        let invoice = try #require(try await f.invoices.invoices(clientID: client).first { $0.orderID == nil })
        return (client, service, try await f.invoices.invoice(id: invoice.id, clientID: nil))
    }

    @Test(arguments: EngineKind.allCases)
    func cancellingARenewalInvoiceBillsThePeriodAgain(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, service, renewal) = try await Self.renewal(f)
            let period = try #require(renewal.lines.first?.periodStart)
            _ = try await f.invoices.cancel(invoiceID: renewal.id)
            #expect(try await BillingEffectRepository(db).renewalInvoice(serviceID: service.id, periodStart: period) == nil)

            // The next run bills the same period on a new invoice; the service is not free.
            #expect(try await f.recurring.runAll().renewalInvoices == 1)
            let open = try await f.invoices.invoices(clientID: client).filter { $0.orderID == nil && $0.status == .unpaid }
            #expect(open.count == 1 && open[0].id != renewal.id)
            let again = try await f.invoices.invoice(id: open[0].id, clientID: nil)
            #expect(again.lines.first?.periodStart == period && again.lines.first?.serviceID == service.id)
            #expect(try await f.recurring.runAll().renewalInvoices == 0)
            #expect(try await f.clients.service(id: service.id, clientID: nil).nextDueDate == period)

            // Left unpaid it is chased like any other: overdue, then the service is suspended.
            f.clock.advance(days: f.settings.suspensionDays + 1)
            #expect(try await f.recurring.runAll().suspensions == 1)
            #expect(try await f.clients.service(id: service.id, clientID: nil).status == .suspended)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func cancellingAServiceCancelsItsUnpaidRenewalsAndStopsTheChasing(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, service, renewal) = try await Self.renewal(f)
            f.clock.advance(days: 5) // 4 days overdue: a reminder and the late fee (its own invoice)
            let report = try await f.recurring.runAll()
            #expect(report.reminders == 1 && report.lateFees == 1)
            let feeID = try #require(try await BillingEffectRepository(db).lateFeeInvoice(invoiceID: renewal.id))

            _ = try await f.clients.changeService(id: service.id, event: .cancel)
            #expect(try await f.invoices.invoice(id: renewal.id, clientID: nil).status == .cancelled)
            #expect(try await f.invoices.invoice(id: feeID, clientID: nil).status == .cancelled)
            #expect(try await InvoiceRepository(db).payable(clientID: client).isEmpty)

            // Weeks later: no reminder, no fee, no new renewal, nothing suspended.
            f.clock.advance(days: 40)
            #expect(try await f.recurring.runAll() == RecurringBilling.Report())
            #expect(try await BillingEffectRepository(db).reminders(invoiceID: renewal.id).map(\.kind) == ["overdue_1"])
            #expect(try await f.clients.service(id: service.id, clientID: nil).status == .cancelled)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aPartlyPaidRenewalStaysOpenWhenItsServiceIsTerminated(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, service, renewal) = try await Self.renewal(f)
            _ = try await f.payments.pay(clientID: client, invoiceID: renewal.id, gateway: "testcard", amount: 100, cardToken: "tok_visa", idempotencyKey: "part")
            _ = try await f.clients.changeService(id: service.id, event: .terminate)
            #expect(try await f.invoices.invoice(id: renewal.id, clientID: nil).status == .unpaid) // refund first, then cancel
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aLateFeeIsASeparateInvoiceAndNeverChangesAnIssuedTotal(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, _, renewal) = try await Self.renewal(f)
            f.clock.advance(days: 1 + f.settings.lateFeeAfterDays)
            #expect(try await f.recurring.applyLateFees(now: f.clock.now()) == 1)
            let original = try await f.invoices.invoice(id: renewal.id, clientID: nil)
            #expect(original.total == renewal.total && original.lines == renewal.lines)

            let feeID = try #require(try await BillingEffectRepository(db).lateFeeInvoice(invoiceID: renewal.id))
            let fee = try await f.invoices.invoice(id: feeID, clientID: client)
            #expect(fee.status == .unpaid && fee.total.minorUnits == 500 && fee.tax.isZero)
            let number = try #require(renewal.number)
            #expect(fee.lines.map(\.kind) == [.lateFee] && fee.lines[0].description.contains(number))
            #expect(fee.number != nil && fee.number != renewal.number && fee.buyer != nil)
            #expect(fee.dueDate == f.today.adding(days: f.settings.invoiceDueDays))

            // Once per invoice, and never a fee on the fee invoice itself.
            f.clock.advance(days: 30)
            #expect(try await f.recurring.applyLateFees(now: f.clock.now()) == 0)
            #expect(try await BillingEffectRepository(db).lateFeeInvoice(invoiceID: feeID) == nil)
        }
    }
}
