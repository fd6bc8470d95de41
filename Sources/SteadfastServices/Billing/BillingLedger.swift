import Foundation
import SteadfastDomain
import SteadfastPersistence

/// The money-moving steps, each run inside a caller's transaction (after the caller has locked
/// the client's billing row): issuing invoices, recording payments, applying credit, and what
/// follows a paid invoice (renewed periods, accepted orders, activated and unsuspended services).
///
/// Nothing here opens a transaction, so a whole use case — payment, status change, unique key
/// — commits or rolls back as one.
struct BillingLedger: Sendable {
    let tx: any SQLExecutor
    let settings: BillingSettings
    let now: Date

    var today: BillingDate { settings.day(now) }
    var invoices: InvoiceRepository { InvoiceRepository(tx) }
    var payments: PaymentRepository { PaymentRepository(tx) }
    var credit: CreditRepository { CreditRepository(tx) }
    var services: ServiceRepository { ServiceRepository(tx) }
    var orders: OrderRepository { OrderRepository(tx) }

    /// Locks the client's billing row (creating the profile if needed) and returns the profile.
    func lockClient(_ clientID: UUID) async throws -> BillingProfile {
        try await BillingProfileRepository(tx).lock(clientID: clientID, defaults: settings.defaultProfile(clientID: clientID), now: now)
    }

    /// Gives a draft its number and makes it payable (`draft → unpaid`), and copies the seller
    /// (staff-edited `company.*`, else the configuration) and the buyer (the client's billing
    /// details and name now) onto it. A zero invoice is paid at once.
    func issue(_ invoice: inout Invoice) async throws {
        try invoice.status.apply(.issue)
        invoice.number = try await nextNumber(settings.invoiceNumberFormat)
        invoice.issueDate = today
        invoice.seller = try await CompanyIdentityRepository(tx).load(defaults: settings.company)
        invoice.buyer = try await buyer(clientID: invoice.clientID)
        try await BillingMail(tx: tx, now: now).invoiceIssued(invoice)
    }

    /// The next gap-free number of `format` for today (in this transaction).
    func nextNumber(_ format: InvoiceNumberFormat) async throws -> String {
        let sequence = try await InvoiceNumberRepository(tx).next(sequenceKey: format.sequenceKey(for: today))
        return format.render(sequence: sequence, date: today)
    }

    /// The client as an invoice issued now names them.
    func buyer(clientID: UUID) async throws -> InvoiceParty {
        let profile = try await BillingProfileRepository(tx).find(clientID: clientID) ?? settings.defaultProfile(clientID: clientID)
        let account = try await tx.first("SELECT name, email FROM accounts WHERE id = \(clientID)")
        return profile.buyer(accountName: try account?.string("name") ?? "", email: try account?.string("email"))
    }

    /// Cancels an invoice nothing is paid on (its number stays used). A renewal invoice gives its
    /// period back: its `service_renewals` claim is released, so the next recurring run bills
    /// the period again if the service is still billable (docs/billing.md, "Edge cases").
    func cancel(_ invoice: inout Invoice) async throws {
        guard invoice.amountPaid.isZero else {
            throw BillingError.conflict("this invoice has payments; refund them before cancelling it")
        }
        try invoice.status.apply(.cancel)
        try await invoices.save(invoice, now: now)
        try await BillingEffectRepository(tx).releaseRenewal(invoiceID: invoice.id)
    }

    /// Cancels what a cancelled or terminated service still owes for periods it will no longer
    /// have: its open renewal invoices with nothing paid on them, and their unpaid late-fee
    /// invoices. Partly paid ones stay open (staff refund, then cancel). Returns how many.
    func cancelOpenRenewals(serviceID: UUID) async throws -> Int {
        var count = 0
        let effects = BillingEffectRepository(tx)
        for candidate in try await invoices.openRenewalInvoices(serviceID: serviceID) {
            guard var invoice = try await invoices.find(id: candidate.id, lock: true), invoice.status.isPayable || invoice.status == .draft,
                  invoice.amountPaid.isZero else { continue }
            try await cancel(&invoice)
            count += 1
            if let feeID = try await effects.lateFeeInvoice(invoiceID: invoice.id), var fee = try await invoices.find(id: feeID, lock: true),
               fee.status.isPayable, fee.amountPaid.isZero {
                try await cancel(&fee)
                count += 1
            }
        }
        return count
    }

    /// Marks a zero-total issued invoice paid (nothing to collect) and runs what follows payment.
    func settleIfZero(_ invoice: inout Invoice) async throws {
        guard invoice.status.isPayable, invoice.balanceDue.isZero else { return }
        try invoice.status.apply(.pay)
        invoice.paidAt = now
        try await invoices.save(invoice, now: now)
        try await afterPaid(invoice)
    }

    /// Records `amount` of `original` as given back (a refund row under `uniqueKey`), lowers the
    /// invoice's amount paid (a fully refunded paid invoice becomes `refunded`), credits the
    /// client when `toCredit`, and queues the refund mail. The caller has checked the amount
    /// against what is left to refund.
    func recordRefund(
        of original: Payment, amount: Money, uniqueKey: String, transactionID: String?, note: String, toCredit: Bool
    ) async throws -> (refund: Payment, invoice: Invoice) {
        guard var invoice = try await invoices.find(id: original.invoiceID, lock: true) else { throw BillingError.notFound("invoice") }
        let number = try await nextNumber(toCredit ? settings.creditNoteNumberFormat : settings.refundNumberFormat)
        let refund = Payment(
            id: UUID(), invoiceID: invoice.id, clientID: invoice.clientID, kind: .refund, gateway: original.gateway, amount: amount,
            transactionID: transactionID, uniqueKey: uniqueKey, refundOf: original.id, note: note, createdAt: now, documentNumber: number
        )
        try await payments.insert(refund)
        // What the invoice received goes down by at most what it had (money beyond the balance
        // went to credit when it was paid), so received − refunded stays the invoice's net.
        let fromInvoice = Swift.min(amount.minorUnits, invoice.amountPaid.minorUnits)
        invoice.amountPaid = Money(minorUnits: invoice.amountPaid.minorUnits - fromInvoice, currency: invoice.currency)
        invoice.amountRefunded = try invoice.amountRefunded + Money(minorUnits: fromInvoice, currency: invoice.currency)
        if invoice.status == .paid {
            if invoice.amountPaid.isZero {
                // Every payment given back: the sale is undone and nothing is owed.
                try invoice.status.apply(.refund)
            } else if invoice.balanceDue.isPositive {
                // Part given back: the rest of the total is owed again, due like a new invoice.
                try invoice.status.apply(.reopen)
                invoice.paidAt = nil
                invoice.dueDate = today.adding(days: settings.invoiceDueDays)
            }
        }
        try await invoices.save(invoice, now: now)
        if toCredit {
            try await credit.append(CreditEntry(
                id: UUID(), clientID: invoice.clientID, amount: amount, kind: .refund, invoiceID: invoice.id,
                description: "Credit note \(number) for invoice \(invoice.number ?? "")", createdAt: now
            ), paymentID: refund.id)
        }
        try await BillingMail(tx: tx, now: now).refundIssued(refund, invoice: invoice, toCredit: toCredit)
        return (refund, invoice)
    }

    /// Records `amount` received for `invoice` (locked, current) under `uniqueKey`.
    ///
    /// With `excessToCredit` (money a gateway has already taken), any part above the balance
    /// due — or all of it, if the invoice can no longer be paid — goes to the client's credit
    /// instead of being refused, so money received is never lost.
    func recordPayment(
        on invoice: Invoice, amount: Money, gateway: String, uniqueKey: String, transactionID: String?, note: String, excessToCredit: Bool
    ) async throws -> (payment: Payment, invoice: Invoice, credited: Money) {
        guard amount.isPositive else { throw BillingError.invalid("the amount must be more than zero", field: "amount") }
        guard amount.currency == invoice.currency else {
            throw BillingError(.currencyMismatch, "the invoice is in \(invoice.currency.code), not \(amount.currency.code)", field: "currency")
        }
        var invoice = invoice
        let applied: Money
        if invoice.status.isPayable {
            applied = try Money.min(amount, invoice.balanceDue)
        } else if excessToCredit {
            applied = .zero(amount.currency)
        } else {
            throw BillingError.conflict("invoice \(invoice.number ?? "draft") is \(invoice.status.rawValue) and cannot be paid")
        }
        let excess = try amount - applied
        if excess.isPositive && !excessToCredit {
            throw BillingError.invalid("the amount is more than the balance due (\(invoice.balanceDue.formatted))", field: "amount")
        }
        let payment = Payment(
            id: UUID(), invoiceID: invoice.id, clientID: invoice.clientID, kind: .payment, gateway: gateway, amount: amount,
            transactionID: transactionID, uniqueKey: uniqueKey, refundOf: nil, note: note, createdAt: now
        )
        try await payments.insert(payment)
        if applied.isPositive {
            invoice.amountPaid = try invoice.amountPaid + applied
            let becamePaid = invoice.balanceDue.isZero
            if becamePaid {
                try invoice.status.apply(.pay)
                invoice.paidAt = now
            }
            try await invoices.save(invoice, now: now)
            if becamePaid { try await afterPaid(invoice) }
        }
        if excess.isPositive {
            try await credit.append(CreditEntry(
                id: UUID(), clientID: invoice.clientID, amount: excess, kind: .overpayment, invoiceID: invoice.id,
                description: "Overpayment of invoice \(invoice.number ?? invoice.id.uuidString.lowercased())", createdAt: now
            ), paymentID: payment.id)
        }
        try await BillingMail(tx: tx, now: now).paymentReceived(payment, invoice: invoice)
        return (payment, invoice, excess)
    }

    /// Pays `invoice` from the client's credit balance: at most `limit` (or everything owed).
    /// Returns `nil` when there is no credit or nothing owed. The unique key is derived from the
    /// invoice's state, so two runs that saw the same state cannot both apply credit.
    func applyCredit(to invoice: Invoice, limit: Money? = nil) async throws -> (payment: Payment, invoice: Invoice)? {
        guard invoice.status.isPayable, invoice.balanceDue.isPositive else { return nil }
        let balance = try await credit.balance(clientID: invoice.clientID, currency: invoice.currency)
        guard balance.isPositive else { return nil }
        var amount = try Money.min(balance, invoice.balanceDue)
        if let limit { amount = try Money.min(amount, limit) }
        guard amount.isPositive else { return nil }
        let key = "credit:\(invoice.id.uuidString.lowercased()):\(invoice.amountPaid.minorUnits)"
        let result = try await recordPayment(
            on: invoice, amount: amount, gateway: "credit", uniqueKey: key, transactionID: nil, note: "Paid from credit balance", excessToCredit: false
        )
        try await credit.append(CreditEntry(
            id: UUID(), clientID: invoice.clientID, amount: amount.negated, kind: .applied, invoiceID: invoice.id,
            description: "Applied to invoice \(invoice.number ?? invoice.id.uuidString.lowercased())", createdAt: now
        ), paymentID: result.payment.id)
        return (result.payment, result.invoice)
    }

    /// What follows an invoice becoming paid: its renewal periods move the services' due dates
    /// on, its order is accepted (or its pending services activated), and services suspended
    /// for being overdue come back when nothing else is overdue.
    func afterPaid(_ invoice: Invoice) async throws {
        let lines = invoice.lines.isEmpty ? try await invoices.lines(invoiceID: invoice.id, currency: invoice.currency) : invoice.lines
        for line in lines where line.kind == .renewal {
            guard let serviceID = line.serviceID, let start = line.periodStart, let end = line.periodEnd else { continue }
            _ = try await services.advanceDueDate(id: serviceID, from: start, to: end, now: now)
        }
        if let orderID = invoice.orderID, let order = try await orders.find(id: orderID, lock: true) {
            if order.status == .pending, settings.acceptOrdersOnPayment {
                try await accept(order, invoicePaid: true)
            } else if order.status == .accepted {
                for service in try await services.services(orderID: orderID) where service.status == .pending {
                    _ = try await services.transition(id: service.id, from: .pending, to: try service.status.next(on: .activate), reason: nil, now: now)
                }
            }
        }
        for serviceID in Set(lines.compactMap(\.serviceID)) {
            try await unsuspendIfSettled(serviceID: serviceID)
        }
    }

    /// Lifts an overdue suspension when the service has no overdue invoice left.
    func unsuspendIfSettled(serviceID: UUID) async throws {
        guard let service = try await services.find(id: serviceID, lock: true), service.status == .suspended, service.suspensionReason == .overdue else { return }
        if settings.suspensionDays > 0,
           try await services.hasOverdueInvoices(serviceID: serviceID, dueOnOrBefore: today.adding(days: -settings.suspensionDays)) {
            return
        }
        _ = try await services.transition(id: serviceID, from: .suspended, to: try service.status.next(on: .unsuspend), reason: nil, now: now)
    }

    /// Accepts a pending order: creates one service per item — active when its invoice is paid,
    /// pending otherwise — registered on the order date, next due one cycle later.
    func accept(_ order: Order, invoicePaid: Bool) async throws {
        let target = try order.status.next(on: .accept)
        guard try await orders.transition(id: order.id, from: order.status, to: target, now: now) else {
            throw BillingError.conflict("the order changed at the same moment; reload and try again")
        }
        for item in order.items where item.serviceID == nil {
            var status = ServiceStatus.pending
            if invoicePaid { try status.apply(.activate) }
            let anchor = order.orderDate.day
            let service = ClientService(
                id: UUID(), clientID: order.clientID, orderID: order.id, productID: item.productID, description: item.description,
                cycle: item.cycle, status: status, recurring: item.recurring, anchorDay: anchor, registrationDate: order.orderDate,
                nextDueDate: item.cycle.nextDueDate(after: order.orderDate, anchorDay: anchor), suspensionReason: nil, createdAt: now
            )
            try await services.insert(service, now: now)
            try await orders.setService(itemID: item.id, serviceID: service.id)
            try await invoices.linkService(orderItemID: item.id, serviceID: service.id)
        }
    }
}
