import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import Testing
import SteadfastTestSupport

@Suite struct PaymentServiceTests {
    /// Places an order and returns the client and its unpaid invoice (total 11.90 + 5.95 = 17.85 in DE).
    func unpaidInvoice(_ f: BillingFixture) async throws -> (client: UUID, invoice: Invoice) {
        let product = try await f.product()
        let client = try await f.client()
        let placed = try await f.order(product, for: client)
        return (client, try await f.invoices.invoice(id: f.invoiceID(placed), clientID: client))
    }

    @Test(arguments: EngineKind.allCases)
    func aKeyPaysOnceAndEveryRetryGetsTheOriginalAnswer(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let results = try await withThrowingTaskGroup(of: IdempotentResult<PayOutcome>.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "same-key")
                    }
                }
                return try await group.reduce(into: [IdempotentResult<PayOutcome>]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.json)).count == 1)
            #expect(results.filter { !$0.replayed }.count == 1)
            #expect(try await PaymentRepository(db).count(invoiceID: invoice.id) == 1)
            #expect(try await f.invoices.invoice(id: invoice.id, clientID: nil).amountPaid == invoice.total)
            // The same key for another request is refused, not silently replayed.
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: 100, cardToken: "tok_visa", idempotencyKey: "same-key")
            } throws: { ($0 as? BillingError)?.kind == .idempotencyMismatch }
            // A new key on a paid invoice: nothing to pay.
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "other")
            } throws: { ($0 as? BillingError)?.kind == .conflict }
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: nil)
            } throws: { ($0 as? BillingError)?.field == "Idempotency-Key" }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func partialPaymentsDeclinesAndBankTransfer(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let total = invoice.total.minorUnits
            let part = try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: 1000, cardToken: "tok_visa", idempotencyKey: "p1")
            #expect(part.value.result == "partially_paid")
            #expect(part.value.invoice.balanceDue == total - 1000)
            #expect(part.value.invoice.status == "unpaid")
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: total, cardToken: "tok_visa", idempotencyKey: "p2")
            } throws: { ($0 as? BillingError)?.field == "amount" }
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_declined", idempotencyKey: "p3")
            } throws: { ($0 as? BillingError)?.kind == .paymentDeclined }
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "bitcoin", amount: nil, cardToken: nil, idempotencyKey: "p4")
            } throws: { ($0 as? BillingError)?.field == "gateway" }
            let instructions = try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "banktransfer", amount: nil, cardToken: nil, idempotencyKey: "p5")
            #expect(instructions.value.result == "instructions")
            #expect(instructions.value.instructions?.contains(invoice.number!) == true)
            #expect(try await PaymentRepository(db).count(invoiceID: invoice.id) == 1)

            // Staff record the bank transfer, paying a little too much: the rest becomes credit.
            let staff = try await f.staff()
            let rest = Money(minorUnits: total - 1000 + 300, currency: .eur)
            let recorded = try await f.payments.recordPayment(
                staffID: staff, invoiceID: invoice.id, amount: rest, transactionID: "BANK-REF-1", note: "", idempotencyKey: "s1"
            )
            #expect(recorded.value.result == "paid")
            #expect(recorded.value.credited == 300)
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 300)
            // The same bank reference under another key is refused; under the same key, replayed.
            await #expect {
                try await f.payments.recordPayment(staffID: staff, invoiceID: invoice.id, amount: rest, transactionID: "BANK-REF-1", note: "", idempotencyKey: "s2")
            } throws: { ($0 as? BillingError)?.kind == .conflict }
            #expect(try await f.payments.recordPayment(staffID: staff, invoiceID: invoice.id, amount: rest, transactionID: "BANK-REF-1", note: "", idempotencyKey: "s1").replayed)
            #expect(try await PaymentRepository(db).count(invoiceID: invoice.id) == 2)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func creditIsAddedAppliedAndNeverNegative(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let staff = try await f.staff()
            let added = try await f.payments.adjustCredit(staffID: staff, clientID: client, amount: Money(minorUnits: 1000, currency: .eur), description: "Goodwill", idempotencyKey: "c1")
            #expect(added.value.balance == 1000)
            #expect(try await f.payments.adjustCredit(staffID: staff, clientID: client, amount: Money(minorUnits: 1000, currency: .eur), description: "Goodwill", idempotencyKey: "c1").replayed)
            await #expect {
                try await f.payments.adjustCredit(staffID: staff, clientID: client, amount: Money(minorUnits: -5000, currency: .eur), description: "Oops", idempotencyKey: "c2")
            } throws: { ($0 as? BillingError)?.field == "amount" }

            let applied = try await f.payments.applyCredit(clientID: client, invoiceID: invoice.id, amount: nil, idempotencyKey: "a1")
            #expect(applied.value.result == "partially_paid")
            #expect(applied.value.payment?.gateway == "credit")
            #expect(applied.value.invoice.amountPaid == 1000)
            #expect(try await f.payments.creditBalance(clientID: client).isZero)
            await #expect { try await f.payments.applyCredit(clientID: client, invoiceID: invoice.id, amount: nil, idempotencyKey: "a2") } throws: {
                ($0 as? BillingError)?.kind == .conflict
            }
            let entries = try await f.payments.creditEntries(clientID: client)
            #expect(entries.map(\.amount.minorUnits).reduce(0, +) == 0)
            #expect(Set(entries.map(\.kind)) == [.added, .applied])
        }
    }

    @Test(arguments: EngineKind.allCases)
    func refundsToTheGatewayOrToCredit(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let staff = try await f.staff()
            let paid = try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "k")
            let paymentID = try #require(paid.value.payment.flatMap { UUID(uuidString: $0.id) })
            let partial = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: 500, toCredit: true, idempotencyKey: "r1")
            // A partial refund reopens the invoice: the refunded part is owed again (docs/billing.md).
            #expect(partial.value.invoice.status == "unpaid" && partial.value.invoice.balanceDue == 500 && partial.value.invoice.amountRefunded == 500)
            #expect(partial.value.toCredit)
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 500)
            #expect(try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: 500, toCredit: true, idempotencyKey: "r1").replayed)
            await #expect { try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: invoice.total.minorUnits, toCredit: false, idempotencyKey: "r2") } throws: {
                ($0 as? BillingError)?.field == "amount"
            }
            let rest = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: nil, toCredit: false, idempotencyKey: "r3")
            #expect(rest.value.refund.amount == invoice.total.minorUnits - 500)
            // Everything given back after the reopening: the whole total is owed; nothing is paid, so staff may cancel it.
            #expect(rest.value.invoice.status == "unpaid" && rest.value.invoice.balanceDue == invoice.total.minorUnits)
            #expect(try await f.invoices.cancel(invoiceID: invoice.id).status == .cancelled)
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 500)
            await #expect { try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: nil, toCredit: false, idempotencyKey: "r4") } throws: {
                ($0 as? BillingError)?.kind == .conflict
            }
        }
    }

    /// An overpayment is credited when it is recorded; a refund of the whole payment on top
    /// would return that part twice. The limit is payment − refunded − overpayment credited.
    @Test(arguments: EngineKind.allCases)
    func aRefundNeverReturnsTheOverpaymentAlreadyCredited(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let staff = try await f.staff()
            let total = invoice.total.minorUnits
            let recorded = try await f.payments.recordPayment(
                staffID: staff, invoiceID: invoice.id, amount: Money(minorUnits: total + 300, currency: .eur), transactionID: "BANK-OVER", note: "",
                idempotencyKey: "over"
            )
            #expect(recorded.value.credited == 300)
            let paymentID = try #require(recorded.value.payment.flatMap { UUID(uuidString: $0.id) })
            await #expect { try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: total + 300, toCredit: false, idempotencyKey: "r1") } throws: {
                ($0 as? BillingError)?.field == "amount" && ($0 as? BillingError)?.message.contains("overpayment") == true
            }
            await #expect { try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: total + 1, toCredit: false, idempotencyKey: "r2") } throws: {
                ($0 as? BillingError)?.field == "amount"
            }
            let all = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: nil, toCredit: false, idempotencyKey: "r3")
            #expect(all.value.refund.amount == total)
            #expect(all.value.invoice.status == "refunded")
            await #expect { try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: 1, toCredit: false, idempotencyKey: "r4") } throws: {
                ($0 as? BillingError)?.kind == .conflict
            }
            // What went back: the invoice's part by refund, the overpayment as credit, once each.
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 300)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func theCardWebhookIsVerifiedAndAppliedOnce(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let pending = try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: nil, idempotencyKey: "co")
            #expect(pending.value.result == "pending")
            let checkout = try #require(pending.value.checkout)
            let gateway = TestCardGateway(secret: BillingFixture.secret)
            let signed = try gateway.signedEvent(.init(
                type: "payment.succeeded", checkoutID: checkout.id, transactionID: "tc_abc", amount: checkout.amount, currency: checkout.currency
            ))
            await #expect { try await f.payments.handleTestCardWebhook(body: signed.body, signature: "sha256=00") } throws: {
                ($0 as? BillingError)?.kind == .badSignature
            }
            await #expect { try await f.payments.handleTestCardWebhook(body: signed.body, signature: nil) } throws: { ($0 as? BillingError)?.kind == .badSignature }
            let forged = TestCardGateway(secret: "someone else").signature(for: signed.body)
            await #expect { try await f.payments.handleTestCardWebhook(body: signed.body, signature: forged) } throws: { ($0 as? BillingError)?.kind == .badSignature }

            let results = try await withThrowingTaskGroup(of: IdempotentResult<WebhookOutcome>.self) { group in
                for _ in 0..<20 { group.addTask { try await f.payments.handleTestCardWebhook(body: signed.body, signature: signed.signature) } }
                return try await group.reduce(into: [IdempotentResult<WebhookOutcome>]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.json)).count == 1)
            #expect(results.first?.value.result == "paid")
            #expect(try await PaymentRepository(db).count(invoiceID: invoice.id) == 1)
            #expect(try await f.payments.checkout(id: UUID(uuidString: checkout.id)!, clientID: client).status == .completed)

            // A second charge for the same (now paid) invoice is not lost: it becomes credit.
            let again = try gateway.signedEvent(.init(type: "payment.succeeded", checkoutID: checkout.id, transactionID: "tc_def", amount: 700, currency: "EUR"))
            let extra = try await f.payments.handleTestCardWebhook(body: again.body, signature: again.signature)
            #expect(extra.value.result == "paid")
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 700)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func theSimulatedProviderCompletesACheckout(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let (client, invoice) = try await unpaidInvoice(f)
            let other = try await f.client("Other")
            let pending = try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: nil, idempotencyKey: "co")
            let checkoutID = UUID(uuidString: pending.value.checkout!.id)!
            await #expect { try await f.payments.simulateTestCardCheckout(clientID: other, checkoutID: checkoutID, succeed: true) } throws: {
                ($0 as? BillingError)?.kind == .notFound
            }
            let done = try await f.payments.simulateTestCardCheckout(clientID: client, checkoutID: checkoutID, succeed: true)
            #expect(done.value.result == "paid")
            await #expect { try await f.payments.simulateTestCardCheckout(clientID: client, checkoutID: checkoutID, succeed: true) } throws: {
                ($0 as? BillingError)?.kind == .conflict
            }
        }
    }
}
