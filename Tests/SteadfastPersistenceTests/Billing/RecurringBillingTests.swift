import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import Testing
import SteadfastTestSupport

@Suite struct RecurringBillingTests {
    @Test(arguments: EngineKind.allCases)
    func renewalsAreGeneratedOncePerPeriodAndPaymentMovesTheDueDate(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client()
            let service = try #require(try await f.activeServices(product, for: client).first)
            let due = try #require(service.nextDueDate)

            f.clock.advance(days: f.today.days(until: due) - 11) // 11 days before: outside the 10-day lead
            #expect(try await f.recurring.runAll().renewalInvoices == 0)
            f.clock.advance(days: 1)
            #expect(try await f.recurring.runAll().renewalInvoices == 1)
            #expect(try await f.recurring.runAll() == RecurringBilling.Report())
            #expect(try await f.recurring.generateRenewalInvoices(now: f.clock.now()) == 0)

            let renewal = try #require(try await f.invoices.invoices(clientID: client).first { $0.orderID == nil })
            let full = try await f.invoices.invoice(id: renewal.id, clientID: client)
            #expect(full.dueDate == due)
            #expect(full.lines.count == 1 && full.lines[0].kind == .renewal && full.lines[0].serviceID == service.id)
            #expect(full.lines[0].periodStart == due && full.lines[0].periodEnd == due.adding(months: 1, anchorDay: service.anchorDay))
            #expect(full.total.minorUnits == 1190)

            _ = try await f.payments.pay(clientID: client, invoiceID: renewal.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "renew")
            #expect(try await f.clients.service(id: service.id, clientID: client).nextDueDate == full.lines[0].periodEnd)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func concurrentRunsMakeOneInvoicePerServiceAndPeriod(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product(setup: 0)
            var services: [ClientService] = []
            for i in 0..<4 { services += try await f.activeServices(product, for: try await f.client("C\(i)"), count: 10) }
            #expect(services.count == 40)
            let issuedBefore = try await InvoiceRepository(db).issuedCount()
            f.clock.advance(days: 30)
            let other = RecurringBilling(database: db, settings: f.settings, clock: f.clock)
            let created = try await withThrowingTaskGroup(of: Int.self) { group in
                for runner in [f.recurring, other, f.recurring, other] {
                    group.addTask { try await runner.generateRenewalInvoices(now: f.clock.now()) }
                }
                return try await group.reduce(0, +)
            }
            #expect(created == 40)
            #expect(try await BillingEffectRepository(db).renewalCount() == 40)
            #expect(try await InvoiceRepository(db).issuedCount() == issuedBefore + 40)
            let year = f.today.year
            let numbers = try await InvoiceRepository(db).list(limit: 1000).compactMap(\.number)
            #expect(Set(numbers) == Set((1...(issuedBefore + 40)).map { String(format: "INV-\(year)-%06d", $0) }))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func creditPaysRenewalsAutomatically(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client()
            let staff = try await f.staff()
            let service = try #require(try await f.activeServices(product, for: client).first)
            _ = try await f.payments.adjustCredit(staffID: staff, clientID: client, amount: Money(minorUnits: 5000, currency: .eur), description: "Prepaid", idempotencyKey: "c")
            f.clock.advance(days: f.today.days(until: service.nextDueDate!) - 5)
            let report = try await f.recurring.runAll()
            #expect(report.renewalInvoices == 1)
            let renewal = try #require(try await f.invoices.invoices(clientID: client).first { $0.orderID == nil })
            #expect(renewal.status == .paid)
            #expect(try await f.payments.creditBalance(clientID: client).minorUnits == 5000 - 1190)
            #expect(try await f.clients.service(id: service.id, clientID: nil).nextDueDate == service.nextDueDate!.adding(months: 1, anchorDay: service.anchorDay))

            // Credit added later pays open invoices on the next run.
            let drafted = try await f.invoices.createDraft(clientID: client, dueDate: nil, lines: [.init(description: "Extra", amount: Money(minorUnits: 10_000, currency: .eur))])
            let open = try await f.invoices.issue(invoiceID: drafted.id)
            #expect(try await f.recurring.applyCreditBalances(now: f.clock.now()) == 1)
            #expect(try await f.invoices.invoice(id: open.id, clientID: nil).amountPaid.minorUnits == 5000 - 1190)
            #expect(try await f.recurring.applyCreditBalances(now: f.clock.now()) == 0)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func lateFeesRemindersSuspensionAndUnsuspension(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client()
            let service = try #require(try await f.activeServices(product, for: client).first)
            let due = service.nextDueDate!
            f.clock.advance(days: f.today.days(until: due) - 1)
            #expect(try await f.recurring.runAll().renewalInvoices == 1)
            let renewal = try #require(try await f.invoices.invoices(clientID: client).first { $0.orderID == nil })
            let effects = BillingEffectRepository(db)

            f.clock.advance(days: 2) // 1 day overdue
            var report = try await f.recurring.runAll()
            #expect(report.reminders == 1 && report.lateFees == 0 && report.suspensions == 0)
            #expect(try await effects.reminders(invoiceID: renewal.id).map(\.kind) == ["overdue_1"])

            f.clock.advance(days: 2) // 3 days overdue: the late fee
            report = try await f.recurring.runAll()
            #expect(report.lateFees == 1 && report.reminders == 0)
            // The fee is billed on its own invoice; the renewal's total stays as issued.
            #expect(try await f.invoices.invoice(id: renewal.id, clientID: nil).total.minorUnits == 1190)
            let feeID = try #require(try await effects.lateFeeInvoice(invoiceID: renewal.id))
            #expect(try await f.invoices.invoice(id: feeID, clientID: nil).lines.map(\.kind) == [.lateFee])
            #expect(try await f.recurring.applyLateFees(now: f.clock.now()) == 0)

            f.clock.advance(days: 2) // 5 days overdue: suspended
            report = try await f.recurring.runAll()
            #expect(report.suspensions == 1)
            var suspended = try await f.clients.service(id: service.id, clientID: nil)
            #expect(suspended.status == .suspended && suspended.suspensionReason == .overdue)
            #expect(try await f.recurring.suspendOverdueServices(now: f.clock.now()) == 0)

            f.clock.advance(days: 20) // 25 days overdue: only the last reminder step (and the late-fee invoice, 15 days overdue, its overdue_14)
            #expect(try await f.recurring.queueOverdueReminders(now: f.clock.now()) == 2)
            #expect(try await effects.reminders(invoiceID: renewal.id).map(\.kind).sorted() == ["overdue_1", "overdue_14"])
            #expect(try await f.recurring.queueOverdueReminders(now: f.clock.now()) == 0)

            // Paying lifts the overdue suspension at once.
            _ = try await f.payments.pay(clientID: client, invoiceID: renewal.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "late")
            suspended = try await f.clients.service(id: service.id, clientID: nil)
            #expect(suspended.status == .active && suspended.suspensionReason == nil)

            // A staff suspension is not lifted by payments or runs.
            _ = try await f.clients.changeService(id: service.id, event: .suspend)
            #expect(try await f.recurring.runAll().unsuspensions == 0)
            #expect(try await f.clients.service(id: service.id, clientID: nil).suspensionReason == .staff)
            await #expect { try await f.clients.changeService(id: service.id, event: .activate) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
        }
    }

    /// One bad record (an invoice whose total is so large that its 10% late fee is beyond any
    /// amount the portal accepts, as legacy data could have) no longer stops billing for
    /// everyone: every other client still gets their late fee and suspension, and the run
    /// reports what failed.
    @Test(arguments: EngineKind.allCases)
    func oneBadRecordDoesNotStopBillingForEveryoneElse(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db) { $0.lateFee = .percent(TaxRate(millipercent: 10_000)) }
            let product = try await f.product()
            let good = try await f.client("Good")
            let bad = try await f.client("Bad")
            let goodService = try #require(try await f.activeServices(product, for: good).first)
            _ = try #require(try await f.activeServices(product, for: bad).first)
            f.clock.advance(days: f.today.days(until: goodService.nextDueDate!) - 1)
            #expect(try await f.recurring.runAll().renewalInvoices == 2)
            let badRenewal = try #require(try await f.invoices.invoices(clientID: bad).first { $0.orderID == nil })
            let huge = Int64.max - 10
            try await db.query("UPDATE invoice_items SET net = \(huge), gross = \(huge), tax = 0 WHERE invoice_id = \(badRenewal.id)")
            try await db.query("UPDATE invoices SET subtotal = \(huge), tax = 0, total = \(huge) WHERE id = \(badRenewal.id)")

            f.clock.advance(days: 4) // 3 days overdue: late fees
            await #expect { try await f.recurring.runAll() } throws: { error in
                (error as? BillingError)?.kind == .conflict && (error as? BillingError)?.message.contains(badRenewal.id.uuidString.lowercased()) == true
            }
            let goodRenewal = try #require(try await InvoiceRepository(db).openRenewalInvoices(serviceID: goodService.id).first)
            #expect(try await BillingEffectRepository(db).lateFeeInvoice(invoiceID: goodRenewal.id) != nil)

            f.clock.advance(days: 2) // 5 days overdue: the good client's service is suspended all the same
            await #expect(throws: BillingError.self) { try await f.recurring.runAll() }
            #expect(try await f.clients.service(id: goodService.id, clientID: nil).status == .suspended)
        }
    }
}
