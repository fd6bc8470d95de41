import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// The billing events queue their mail in the outbox, in the event's transaction, once per event.
@Suite("Billing mail")
struct BillingMailTests {
    func outbox(_ db: any SQLDatabase) async throws -> [String] {
        try await db.query("SELECT template FROM mail_outbox ORDER BY created_at, template").map { try $0.string("template") }
    }

    @Test(arguments: EngineKind.allCases)
    func everyBillingEventQueuesItsMailOnce(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client("Mailee")
            let staff = try await f.staff()

            // Checkout issues the order's invoice: one invoice_issued to the client.
            let placed = try await f.order(product, for: client)
            #expect(try await outbox(db) == ["invoice_issued"])
            let mail = try #require(try await MailOutboxRepository(db).list(state: .pending, limit: 10, offset: 0).first)
            #expect(mail.toAddress.hasPrefix("mailee-") && mail.toName == "Mailee")
            #expect(mail.subject.hasPrefix("Invoice INV-") && mail.htmlBody.contains("/clientarea/invoices/\(placed.invoiceID)"))
            // The invoice's PDF is asked for, not rendered: delivery makes it at send time.
            #expect(mail.attachment == "invoice-pdf:\(f.invoiceID(placed).uuidString.lowercased())")

            // Paying: payment_received; the same payment replayed queues nothing more.
            let paid = try await f.payments.pay(clientID: client, invoiceID: f.invoiceID(placed), gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "k1")
            _ = try await f.payments.pay(clientID: client, invoiceID: f.invoiceID(placed), gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "k1")
            #expect(try await outbox(db).filter { $0 == "payment_received" }.count == 1)

            // A refund: refund_issued.
            let paymentID = try #require(paid.value.payment.map { UUID(uuidString: $0.id)! })
            _ = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: 100, toCredit: true, idempotencyKey: "r1")
            #expect(try await outbox(db).filter { $0 == "refund_issued" }.count == 1)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func remindersAndSuspensionsQueueMailOnceAndRemindersAreHandedOver(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client()
            let service = try #require(try await f.activeServices(product, for: client).first)
            f.clock.advance(days: f.today.days(until: service.nextDueDate!) - 1)
            _ = try await f.recurring.runAll()
            let renewal = try #require(try await f.invoices.invoices(clientID: client).first { $0.orderID == nil })

            f.clock.advance(days: 2)  // 1 day overdue: the first reminder
            _ = try await f.recurring.runAll()
            _ = try await f.recurring.runAll()
            #expect(try await outbox(db).filter { $0 == "invoice_overdue" }.count == 1)
            let reminders = try await BillingEffectRepository(db).reminders(invoiceID: renewal.id)
            #expect(reminders.count == 1 && reminders[0].deliveredAt != nil)
            #expect(try await BillingEffectRepository(db).undeliveredReminders(limit: 10).isEmpty)

            f.clock.advance(days: 4)  // 5 days overdue: suspended, and told so
            _ = try await f.recurring.runAll()
            #expect(try await outbox(db).filter { $0 == "service_suspended" }.count == 1)

            // A reminder claimed before mail existed (delivered_at empty) is drained once.
            _ = try await BillingEffectRepository(db).claimReminder(invoiceID: renewal.id, kind: "overdue_legacy", now: f.clock.now())
            #expect(try await f.recurring.drainReminders(now: f.clock.now()) == 1)
            #expect(try await f.recurring.drainReminders(now: f.clock.now()) == 0)
            #expect(try await outbox(db).filter { $0 == "invoice_overdue" }.count == 2)
        }
    }
}
