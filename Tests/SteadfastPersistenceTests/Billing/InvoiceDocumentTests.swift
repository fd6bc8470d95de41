import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// Invoices as documents (issue 16, item 5) on both engines: refunds with their sign and own
/// numbers, balance due = total − received + refunded with the status to match, the seller and
/// buyer copied when issued, ISO 3166-1 countries.
@Suite struct InvoiceDocumentTests {
    /// Orders the product (total 17.85 with 19% VAT) and pays it in full by bank transfer; returns the invoice and payment ids.
    static func paidInvoice(_ f: BillingFixture, client: UUID, staff: UUID) async throws -> (invoice: UUID, payment: UUID) {
        let invoiceID = f.invoiceID(try await f.order(try await f.product(), for: client))
        let paid = try await f.payments.recordPayment(
            staffID: staff, invoiceID: invoiceID, amount: Money(minorUnits: 1785, currency: .eur), transactionID: "BANK-\(UUID().uuidString.prefix(6))", note: "",
            idempotencyKey: UUID().uuidString
        ).value
        return (invoiceID, UUID(uuidString: try #require(paid.payment?.id))!)
    }

    /// The reported bug: "Paid 39.90 · Balance due 0.00 · paid" after a partial refund.
    @Test(arguments: EngineKind.allCases)
    func aPartialRefundReopensTheInvoiceWithTheBalanceOwed(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let client = try await f.client()
            let staff = try await f.staff()
            let (invoiceID, paymentID) = try await Self.paidInvoice(f, client: client, staff: staff)
            #expect(try await f.invoices.invoice(id: invoiceID, clientID: nil).status == .paid)

            f.clock.advance(days: 20) // long after the original due date
            let refund = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: 500, toCredit: false, idempotencyKey: "r1").value
            let year = f.today.year
            #expect(refund.refund.documentNumber == "RF-\(year)-000001")
            let invoice = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(invoice.amountReceived.minorUnits == 1785)
            #expect(invoice.amountRefunded.minorUnits == 500)
            #expect(invoice.balanceDue.minorUnits == 1785 - 1785 + 500)
            #expect(invoice.status == .unpaid)
            #expect(invoice.paidAt == nil)
            // Due again like a new invoice, not overdue at once (no instant late fee or suspension).
            #expect(invoice.dueDate == f.today.adding(days: f.settings.invoiceDueDays))
            #expect(try await f.recurring.applyLateFees(now: f.clock.now()) == 0)

            // A credit note has its own counter and sign.
            let note = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: 285, toCredit: true, idempotencyKey: "r2").value
            #expect(note.refund.documentNumber == "CN-\(year)-000001")
            let rows = try await f.invoices.payments(invoiceID: invoiceID)
            #expect(Set(rows.filter { $0.kind == .refund }.map(\.signedAmount.minorUnits)) == [-500, -285])
            let after = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(after.balanceDue.minorUnits == 785 && after.amountRefunded.minorUnits == 785)
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 285)

            // Paying what is owed settles it again.
            _ = try await f.payments.recordPayment(
                staffID: staff, invoiceID: invoiceID, amount: Money(minorUnits: 785, currency: .eur), transactionID: "BANK-2", note: "", idempotencyKey: "p2"
            )
            let settled = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(settled.status == .paid && settled.balanceDue.isZero && settled.amountReceived.minorUnits == 1785 + 785)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aFullRefundVoidsThePaidInvoice(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let client = try await f.client()
            let staff = try await f.staff()
            let (invoiceID, paymentID) = try await Self.paidInvoice(f, client: client, staff: staff)
            _ = try await f.payments.refund(staffID: staff, paymentID: paymentID, amount: nil, toCredit: false, idempotencyKey: "all")
            let invoice = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(invoice.status == .refunded && invoice.balanceDue.isZero && invoice.amountRefunded.minorUnits == 1785)
        }
    }

    /// Random payments and refunds: after every step the balance is total − received + refunded
    /// (zero when void), and the invoice is `paid` exactly when something was received and nothing is owed.
    @Test(arguments: EngineKind.allCases)
    func balanceDueAlwaysFollowsTheFormula(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let client = try await f.client()
            let staff = try await f.staff()
            var random = SeededGenerator(seed: kind == .sqlite ? 16 : 61)
            let invoiceID = f.invoiceID(try await f.order(try await f.product(), for: client))
            var received: Int64 = 0, refunded: Int64 = 0
            var payments: [(id: UUID, left: Int64)] = []
            for step in 0..<14 {
                let invoice = try await f.invoices.invoice(id: invoiceID, clientID: nil)
                let owed = invoice.total.minorUnits - received + refunded
                if invoice.status.isPayable, owed > 0, payments.isEmpty || Bool.random(using: &random) {
                    let amount = Int64.random(in: 1...owed, using: &random)
                    let paid = try await f.payments.recordPayment(
                        staffID: staff, invoiceID: invoiceID, amount: Money(minorUnits: amount, currency: .eur), transactionID: "T\(step)", note: "",
                        idempotencyKey: "p\(step)"
                    ).value
                    payments.append((UUID(uuidString: try #require(paid.payment?.id))!, amount))
                    received += amount
                } else if let index = payments.indices.filter({ payments[$0].left > 0 }).randomElement(using: &random) {
                    let amount = Int64.random(in: 1...payments[index].left, using: &random)
                    _ = try await f.payments.refund(staffID: staff, paymentID: payments[index].id, amount: amount, toCredit: Bool.random(using: &random), idempotencyKey: "r\(step)")
                    payments[index].left -= amount
                    refunded += amount
                } else {
                    continue
                }
                let now = try await f.invoices.invoice(id: invoiceID, clientID: nil)
                #expect(now.amountReceived.minorUnits == received && now.amountRefunded.minorUnits == refunded, "step \(step)")
                if now.status == .refunded {
                    #expect(now.balanceDue.isZero && received == refunded)
                } else {
                    #expect(now.balanceDue.minorUnits == now.total.minorUnits - received + refunded, "step \(step)")
                    #expect((now.status == .paid) == now.balanceDue.isZero, "step \(step): \(now.status)")
                }
                if now.status == .refunded { break }
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func sellerAndBuyerAreCopiedWhenIssued(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db) { $0.company = InvoiceParty(name: "Config GmbH", address: "Old street 1") }
            let client = try await f.client("Buyer")
            _ = try await f.clients.updateProfile(
                clientID: client, country: "de", region: nil, taxExempt: nil,
                identity: .init(legalName: "Buyer AG", address: "Hauptstraße 5\r\n10115 Berlin", taxID: "de123456789")
            )
            // Staff edits win over the configuration.
            let company = try await f.invoices.updateCompany(legalName: "Seller Ltd", address: "1 Main St\nSpringfield", taxID: "GB999", bankDetails: "IBAN DE00 1234")
            #expect(company.name == "Seller Ltd" && company.bankDetails == "IBAN DE00 1234")
            let invoiceID = f.invoiceID(try await f.order(try await f.product(), for: client))
            let issued = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(issued.seller == InvoiceParty(name: "Seller Ltd", address: "1 Main St\nSpringfield", taxID: "GB999", bankDetails: "IBAN DE00 1234"))
            let email = try #require(issued.buyer?.email)
            #expect(issued.buyer == InvoiceParty(name: "Buyer AG", address: "Hauptstraße 5\n10115 Berlin", country: "DE", taxID: "DE123456789", email: email))

            // Later changes do not rewrite the issued invoice.
            _ = try await f.clients.updateProfile(clientID: client, country: "FR", region: nil, taxExempt: nil, identity: .init(legalName: "Renamed SA", address: "Paris", taxID: nil))
            _ = try await f.invoices.updateCompany(legalName: "New Seller", address: "", taxID: nil, bankDetails: nil)
            let again = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(again.buyer?.name == "Buyer AG" && again.seller?.name == "Seller Ltd")

            // An invoice issued before the copy existed still reads (and has none).
            try await db.query("UPDATE invoices SET seller = NULL, buyer = NULL WHERE id = \(invoiceID)")
            let legacy = try await f.invoices.invoice(id: invoiceID, clientID: nil)
            #expect(legacy.seller == nil && legacy.buyer == nil && legacy.number == issued.number)

            // Bad input names its field.
            await #expect { try await f.invoices.updateCompany(legalName: " ", address: nil, taxID: nil, bankDetails: nil) } throws: {
                ($0 as? BillingError)?.field == "legal_name"
            }
            await #expect { try await f.clients.updateProfile(clientID: client, country: "DE", region: nil, taxExempt: nil, identity: .init(legalName: nil, address: nil, taxID: "DE 12/34")) } throws: {
                ($0 as? BillingError)?.field == "tax_id"
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func countriesMustBeISO3166(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let client = try await f.client(country: nil)
            for bad in ["ZZ", "UK", "XK", "EU", "QQ"] {
                await #expect { try await f.clients.updateProfile(clientID: client, country: bad, region: nil, taxExempt: nil) } throws: { error in
                    let billing = error as? BillingError
                    return billing?.kind == .invalid && billing?.field == "country" && billing?.message.contains("ISO 3166-1") == true
                }
            }
            #expect(try await f.clients.profile(clientID: client).country == nil) // nothing stored
            #expect(try await f.clients.updateProfile(clientID: client, country: "gb", region: nil, taxExempt: nil).country == "GB")
        }
    }
}
