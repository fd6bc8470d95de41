import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Every way money moves: clients paying invoices (test card or bank transfer), staff
/// recording payments and refunds, credit added and applied, and the card gateway's webhook.
///
/// Exactly once: each call carries a unique key (the client's or staff's `Idempotency-Key`, or
/// the gateway's transaction id). The payment row with that key, the invoice's new status and
/// the stored answer are written in ONE transaction (``IdempotencyGuard``), so a replayed
/// webhook, a double-clicked Pay button or a request retried on another node after a failover
/// applies the money once and gets the original answer back.
public struct PaymentService: Sendable {
    let database: any SQLDatabase
    let settings: BillingSettings
    let clock: any WallClock
    /// The payment flows of a provider that keeps each payment and reports refund totals (Stripe):
    /// paying through it and refunds settled by total (``StripePayments``).
    let stripe: StripePayments?
    /// Every gateway, by name: billing code asks them through ``PaymentGateway`` only, by capability.
    let gateways: PaymentGateways

    public init(database: any SQLDatabase, settings: BillingSettings, clock: any WallClock, stripe: StripePayments? = nil) {
        self.database = database
        self.settings = settings
        self.clock = clock
        self.stripe = stripe
        self.gateways = PaymentGateways(settings: settings, stripe: stripe?.gateway)
    }

    var guardian: IdempotencyGuard { IdempotencyGuard(database: database, clock: clock) }
    /// The simulated card provider's own side (it signs the notifications its stand-in page sends).
    var simulatedProvider: TestCardGateway { TestCardGateway(secret: settings.testCardSecret) }

    private func lock(_ clientID: UUID, now: Date) -> @Sendable (any SQLExecutor) async throws -> Void {
        Self.clientLock(clientID, settings: settings, now: now)
    }

    /// The first step of every money-moving transaction: lock the client's billing row.
    static func clientLock(_ clientID: UUID, settings: BillingSettings, now: Date) -> @Sendable (any SQLExecutor) async throws -> Void {
        { tx in _ = try await BillingLedger(tx: tx, settings: settings, now: now).lockClient(clientID) }
    }

    /// What a client paying `invoice` (their own, found by id and client) pays: `requested`
    /// minor units, or the balance due; 404 for no invoice or a draft, 409 when nothing is
    /// payable, 400 above the balance due.
    static func amountToPay(_ invoice: Invoice?, requested: Int64?) throws -> Money {
        guard let invoice, invoice.status != .draft else { throw BillingError.notFound("invoice") }
        guard invoice.status.isPayable else {
            throw BillingError.conflict("invoice \(invoice.number ?? "") is \(invoice.status.rawValue); there is nothing to pay")
        }
        let money = requested.map { Money(minorUnits: $0, currency: invoice.currency) } ?? invoice.balanceDue
        guard try !invoice.balanceDue.isLess(than: money) else {
            throw BillingError.invalid("the amount is more than the balance due (\(invoice.balanceDue.formatted))", field: "amount")
        }
        return money
    }

    // MARK: Clients paying

    /// A client pays one of their invoices, through the gateway's ``PaymentGateway/createPayment(_:)``;
    /// what happens follows the payment's status:
    /// - succeeded (`testcard` with a `cardToken`): recorded at once → `paid` / `partially_paid`;
    /// - requires action (`testcard` without a token): a pending checkout the client completes on
    ///   the provider's page, recorded by the gateway's webhook;
    /// - pending (`banktransfer`): the gateway's instructions; staff record the money when it arrives;
    /// - failed: 402.
    /// A gateway that keeps its payments at the provider (``GatewayCapabilities/lookup``: Stripe) is
    /// asked outside any transaction: ``StripePayments/pay(clientID:invoiceID:amount:paymentMethod:idempotencyKey:)``.
    /// The others keep nothing outside the portal and answer at once, inside the transaction.
    /// `amount` (minor units) defaults to the balance due; less pays part of the invoice.
    public func pay(
        clientID: UUID, invoiceID: UUID, gateway gatewayName: String, amount: Int64?, cardToken: String?, paymentMethod: String? = nil,
        idempotencyKey: String?
    ) async throws -> IdempotentResult<PayOutcome> {
        let key = try IdempotencyGuard.validate(idempotencyKey)
        let gateway = try gateways.enabledGateway(named: gatewayName)
        if gateway.capabilities.contains(.lookup) {
            guard let stripe, stripe.gateway.name == gateway.name else { throw BillingError.invalid("\(gateway.name) is not configured", field: "gateway") }
            return try await stripe.pay(clientID: clientID, invoiceID: invoiceID, amount: amount, paymentMethod: paymentMethod ?? cardToken, idempotencyKey: key)
        }
        if cardToken != nil, !gateway.capabilities.contains(.chargeNow) {
            throw BillingError.invalid("\(gateway.name) takes no card", field: "card_token")
        }
        if let amount, amount <= 0 { throw BillingError.invalid("the amount must be more than zero", field: "amount") }
        let recordKey = "pay:\(clientID.uuidString.lowercased()):\(key)"
        let fingerprint = "invoice=\(invoiceID.uuidString.lowercased());gateway=\(gatewayName);amount=\(amount.map(String.init) ?? "due");token=\(cardToken ?? "-")"
        let settings = self.settings
        let now = clock.now()
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            // Lines are not needed to take money (what follows a paid invoice reads them itself).
            let invoice = try await ledger.invoices.find(id: invoiceID, clientID: clientID, lock: true, withLines: false)
            let money = try Self.amountToPay(invoice, requested: amount)
            guard let invoice else { throw BillingError.notFound("invoice") }
            let request = GatewayPaymentRequest(
                invoiceID: invoice.id, clientID: clientID, amount: money, attempt: key, paymentMethod: cardToken, confirm: cardToken != nil,
                reference: invoice.number
            )
            let payment: GatewayPayment
            do { payment = try await gateway.createPayment(request) } catch let error as GatewayError { throw error.forCaller(field: "card_token") }
            let outcome: PayOutcome
            switch payment.status {
            case .succeeded:
                let result = try await ledger.recordPayment(
                    on: invoice, amount: money, gateway: gateway.name, uniqueKey: recordKey, transactionID: payment.id, note: "Card payment", excessToCredit: false
                )
                outcome = PayOutcome.settled(result.invoice, payment: result.payment)
            case .pending:
                outcome = PayOutcome(result: "instructions", invoice: invoice, instructions: payment.instructions ?? "")
            case .requiresAction:
                // The client completes it on the provider's page; its signed notification records it.
                let checkout = CheckoutRepository.Checkout(
                    id: UUID(), invoiceID: invoice.id, clientID: clientID, gateway: gateway.name, amount: money, status: .pending,
                    paymentID: nil, createdAt: now
                )
                try await CheckoutRepository(tx).insert(checkout)
                outcome = PayOutcome(result: "pending", invoice: invoice, checkout: checkout)
            case .failed:
                throw BillingError(.paymentDeclined, payment.failureMessage ?? "the payment was declined", field: "card_token")
            }
            try await AuditTrail.record(
                tx, .paymentStarted, object: AuditObject("invoice", invoiceID), after: ["gateway": gatewayName, "result": outcome.result],
                amounts: ["amount": money], account: clientID, now: now
            )
            return outcome
        }
    }

    /// A client pays (part of) an invoice from their credit balance.
    public func applyCredit(clientID: UUID, invoiceID: UUID, amount: Int64?, idempotencyKey: String?) async throws -> IdempotentResult<PayOutcome> {
        let key = try IdempotencyGuard.validate(idempotencyKey)
        if let amount, amount <= 0 { throw BillingError.invalid("the amount must be more than zero", field: "amount") }
        let recordKey = "apply-credit:\(clientID.uuidString.lowercased()):\(key)"
        let fingerprint = "invoice=\(invoiceID.uuidString.lowercased());amount=\(amount.map(String.init) ?? "due")"
        let settings = self.settings
        let now = clock.now()
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            guard let invoice = try await ledger.invoices.find(id: invoiceID, clientID: clientID, lock: true), invoice.status != .draft else {
                throw BillingError.notFound("invoice")
            }
            guard invoice.status.isPayable else {
                throw BillingError.conflict("invoice \(invoice.number ?? "") is \(invoice.status.rawValue); there is nothing to pay")
            }
            guard let result = try await ledger.applyCredit(to: invoice, limit: amount.map { Money(minorUnits: $0, currency: invoice.currency) }) else {
                throw BillingError.conflict("there is no credit balance to apply", field: "amount")
            }
            try await AuditTrail.record(
                tx, .creditApplied, object: AuditObject("invoice", invoiceID), before: ["status": invoice.status.rawValue],
                after: ["status": result.invoice.status.rawValue], amounts: ["amount": result.payment.amount], account: clientID, now: now
            )
            return PayOutcome.settled(result.invoice, payment: result.payment)
        }
    }

    // MARK: Staff

    /// Staff record money received (bank transfer) for an invoice. A `transactionID` (the bank
    /// reference) is unique per gateway: recording the same transfer twice is refused. Money
    /// beyond the balance due goes to the client's credit.
    public func recordPayment(
        staffID: UUID, invoiceID: UUID, amount: Money, gateway gatewayName: String = "banktransfer", transactionID: String?, note: String,
        idempotencyKey: String?
    ) async throws -> IdempotentResult<PayOutcome> {
        let key = try IdempotencyGuard.validate(idempotencyKey)
        // Staff record money only for gateways the provider cannot be asked about (what a provider
        // keeps, Stripe, is recorded from the provider, never typed in).
        guard let recorded = gateways.named(gatewayName), !recorded.capabilities.contains(.lookup) else {
            throw BillingError.invalid("gateway must be banktransfer or testcard", field: "gateway")
        }
        if let transactionID, transactionID.isEmpty || transactionID.count > 200 {
            throw BillingError.invalid("transaction id must be 1-200 characters", field: "transaction_id")
        }
        guard note.count <= 1000 else { throw BillingError.invalid("the note is limited to 1000 characters", field: "note") }
        _ = try amount.checkedInput()
        guard let clientID = try await InvoiceRepository(database).find(id: invoiceID)?.clientID else { throw BillingError.notFound("invoice") }
        let recordKey = "payment:\(staffID.uuidString.lowercased()):\(key)"
        let uniqueKey = transactionID.map { "\(gatewayName):\($0)" } ?? recordKey
        let fingerprint = "invoice=\(invoiceID.uuidString.lowercased());amount=\(amount.minorUnits);gateway=\(gatewayName);tx=\(transactionID ?? "-")"
        let settings = self.settings
        let now = clock.now()
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            guard let invoice = try await ledger.invoices.find(id: invoiceID, lock: true) else { throw BillingError.notFound("invoice") }
            guard invoice.status != .draft else { throw BillingError.conflict("issue the invoice before recording payments", field: "status") }
            if let existing = try await ledger.payments.find(uniqueKey: uniqueKey) {
                throw BillingError.conflict("transaction \(existing.transactionID ?? "") is already recorded", field: "transaction_id")
            }
            let result = try await ledger.recordPayment(
                on: invoice, amount: amount, gateway: gatewayName, uniqueKey: uniqueKey, transactionID: transactionID, note: note, excessToCredit: true
            )
            try await AuditTrail.record(
                tx, .paymentRecorded, object: AuditObject("payment", result.payment.id),
                before: ["invoice_status": invoice.status.rawValue], after: ["invoice_status": result.invoice.status.rawValue, "gateway": gatewayName, "transaction_id": transactionID ?? ""],
                amounts: ["amount": amount, "credited": result.credited], account: clientID, now: now
            )
            return PayOutcome.settled(result.invoice, payment: result.payment, credited: result.credited.minorUnits)
        }
    }

    /// Staff give back (part of) a payment: to the gateway, or as client credit. A fully
    /// refunded paid invoice becomes `refunded`. Credit applications are always refunded as credit.
    public func refund(staffID: UUID, paymentID: UUID, amount: Int64?, toCredit: Bool, idempotencyKey: String?) async throws -> IdempotentResult<RefundOutcome> {
        let key = try IdempotencyGuard.validate(idempotencyKey)
        if let amount, amount <= 0 { throw BillingError.invalid("the amount must be more than zero", field: "amount") }
        guard let original = try await PaymentRepository(database).find(id: paymentID), original.kind == .payment else {
            throw BillingError.notFound("payment")
        }
        // Money given back through the gateway: only one that can refund (a capability of the
        // contract); one that reports refund totals (Stripe) is asked before the transaction and
        // settled against the total, so its refund webhook and this request record it once.
        let gateway = gateways.named(original.gateway)
        if !toCredit, original.gateway != "credit" {
            guard let gateway, gateway.capabilities.contains(.refund) else {
                throw BillingError.conflict("\(original.gateway) cannot refund this payment here; refund it as credit", field: "to_credit")
            }
            if gateway.capabilities.contains(.refundTotals) {
                guard let stripe, stripe.gateway.name == gateway.name else {
                    throw BillingError.conflict("\(original.gateway) is not configured; refund this payment as credit", field: "to_credit")
                }
                return try await stripe.refund(staffID: staffID, original: original, amount: amount, idempotencyKey: key)
            }
        }
        let recordKey = "refund:\(staffID.uuidString.lowercased()):\(key)"
        let fingerprint = "payment=\(paymentID.uuidString.lowercased());amount=\(amount.map(String.init) ?? "all");credit=\(toCredit)"
        let settings = self.settings
        let now = clock.now()
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(original.clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            // The part of a payment above the balance due went to the client's credit when it was
            // recorded; refunding it too would give that money back twice (once as credit, once
            // here). It stays credit: staff remove credit with a credit adjustment if they must.
            let overpaid = try await ledger.credit.overpayment(paymentID: paymentID)
            let refunded = try await ledger.payments.refunded(paymentID: paymentID)
            let remaining = original.amount.minorUnits - overpaid - refunded
            let value = amount ?? remaining
            guard remaining > 0 else {
                throw BillingError.conflict(overpaid > 0 ? "this payment has been refunded in full, but for the overpayment that went to the client's credit" : "this payment has been refunded in full")
            }
            guard value <= remaining else {
                let limit = Money(minorUnits: remaining, currency: original.amount.currency).formatted
                let credited = overpaid > 0 ? " (\(Money(minorUnits: overpaid, currency: original.amount.currency).formatted) of it went to the client's credit as overpayment)" : ""
                throw BillingError.invalid("at most \(limit) can still be refunded\(credited)", field: "amount")
            }
            let money = Money(minorUnits: value, currency: original.amount.currency)
            let asCredit = toCredit || original.gateway == "credit"
            if !asCredit, let gateway {
                if value < remaining, !gateway.capabilities.contains(.partialRefund) {
                    throw BillingError.invalid("\(gateway.name) refunds only all of a payment", field: "amount")
                }
                // Gateways without refund totals keep nothing outside the portal (bank transfer:
                // staff send the money; the test card: simulated): they acknowledge at once.
                do {
                    _ = try await gateway.refund(paymentID: original.transactionID ?? original.id.uuidString.lowercased(), amount: money, idempotencyKey: recordKey)
                } catch let error as GatewayError { throw error.forCaller(field: "amount") }
            }
            let (refund, invoice) = try await ledger.recordRefund(
                of: original, amount: money, uniqueKey: recordKey, transactionID: nil, note: asCredit ? "Refunded as credit" : "Refunded", toCredit: asCredit
            )
            try await AuditTrail.record(
                tx, .paymentRefunded, object: AuditObject("payment", paymentID), after: ["refund_id": refund.id.uuidString.lowercased(), "to_credit": String(asCredit)],
                amounts: ["amount": money], account: original.clientID, now: now
            )
            return RefundOutcome(refund: PaymentRecord(refund), invoice: InvoiceState(invoice), toCredit: asCredit)
        }
    }

    /// Staff add credit to (or, with a negative amount, remove credit from) a client's balance.
    public func adjustCredit(staffID: UUID, clientID: UUID, amount: Money, description: String, idempotencyKey: String?) async throws -> IdempotentResult<CreditOutcome> {
        let key = try IdempotencyGuard.validate(idempotencyKey)
        guard !amount.isZero else { throw BillingError.invalid("the amount must not be zero", field: "amount") }
        _ = try amount.checkedInput()
        let text = description.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 500 else { throw BillingError.invalid("a description of 1-500 characters is required", field: "description") }
        guard try await AccountRepository(database: database).find(id: clientID)?.role == .client else { throw BillingError.notFound("client") }
        let recordKey = "credit:\(staffID.uuidString.lowercased()):\(key)"
        let fingerprint = "client=\(clientID.uuidString.lowercased());amount=\(amount.minorUnits);currency=\(amount.currency.code)"
        let settings = self.settings
        let now = clock.now()
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            let balance = try await ledger.credit.balance(clientID: clientID, currency: amount.currency)
            let after = try balance + amount
            guard !after.isNegative else {
                throw BillingError.invalid("the client has only \(balance.formatted) of credit", field: "amount")
            }
            // Keeps every balance (and the ledger's SUM) far from overflow.
            _ = try after.checkedInput()
            let entry = CreditEntry(
                id: UUID(), clientID: clientID, amount: amount, kind: amount.isPositive ? .added : .removed, invoiceID: nil, description: text, createdAt: now
            )
            try await ledger.credit.append(entry)
            try await AuditTrail.record(
                tx, .creditAdjusted, object: AuditObject("credit_entry", entry.id), after: ["description": text],
                amounts: ["amount": amount, "balance_before": balance, "balance_after": after], account: clientID, now: now
            )
            return CreditOutcome(entryID: entry.id.uuidString.lowercased(), amount: amount.minorUnits, currency: amount.currency.code, balance: after.minorUnits)
        }
    }

    // MARK: The card gateway

    /// Handles a test card provider notification: verifies its signature (``BillingErrorKind/badSignature``
    /// otherwise), then records the payment under the provider's transaction id. A replayed
    /// notification changes nothing and returns the original answer.
    public func handleTestCardWebhook(body: [UInt8], signature: String?) async throws -> IdempotentResult<WebhookOutcome> {
        guard let gateway = try? gateways.enabledGateway(named: TestCardGateway.name) else { throw BillingError.notFound("gateway") }
        // Verified and read by the gateway (the contract's parseWebhook): a bad signature applies nothing.
        let parsed: GatewayEvent
        do {
            parsed = try gateway.parseWebhook(body: body, signature: signature, now: clock.now())
        } catch let error as GatewayError {
            throw error.kind == .badSignature ? BillingError(.badSignature, error.message) : BillingError.invalid(error.message)
        }
        let payment: GatewayPayment
        switch parsed.kind {
        case .paymentSucceeded(let value), .paymentFailed(let value): payment = value
        default: throw BillingError.invalid("unknown event type", field: "type")
        }
        let event = TestCardGateway.Event(
            type: parsed.type, checkoutID: parsed.reference ?? "", transactionID: payment.id, amount: payment.amount.minorUnits, currency: payment.amount.currency.code
        )
        guard !event.transactionID.isEmpty, event.transactionID.count <= 200 else { throw BillingError.invalid("bad transaction id", field: "transaction_id") }
        guard let checkoutID = UUID(uuidString: event.checkoutID), let checkout = try await CheckoutRepository(database).find(id: checkoutID) else {
            throw BillingError.notFound("checkout")
        }
        let currency = try Currency(code: event.currency)
        guard currency == checkout.amount.currency, event.amount > 0 else { throw BillingError.invalid("amount or currency does not match the checkout", field: "amount") }
        let recordKey = "webhook:testcard:\(event.transactionID):\(event.type)"
        let fingerprint = "checkout=\(event.checkoutID);amount=\(event.amount);currency=\(event.currency)"
        let now = clock.now()
        return try await guardian.runNotification(from: TestCardGateway.name, key: recordKey, fingerprint: fingerprint, clientID: checkout.clientID, settings: settings, now: now) { ledger, tx in
            let checkouts = CheckoutRepository(tx)
            guard let invoice = try await ledger.invoices.find(id: checkout.invoiceID, lock: true) else { throw BillingError.notFound("invoice") }
            let amount = Money(minorUnits: event.amount, currency: currency)
            if event.type == "payment.failed" {
                _ = try await checkouts.finish(id: checkout.id, status: .failed, paymentID: nil, now: now)
                try await AuditTrail.record(
                    tx, .paymentFailed, object: AuditObject("invoice", invoice.id), after: ["checkout_id": event.checkoutID, "transaction_id": event.transactionID],
                    amounts: ["amount": amount], account: checkout.clientID, now: now
                )
                return WebhookOutcome(event: event.type, checkoutID: event.checkoutID, result: "failed", payment: nil, invoice: InvoiceState(invoice))
            }
            let result = try await ledger.recordPayment(
                on: invoice, amount: amount, gateway: TestCardGateway.name,
                uniqueKey: "testcard:\(event.transactionID)", transactionID: event.transactionID, note: "Card payment (checkout)", excessToCredit: true
            )
            _ = try await checkouts.finish(id: checkout.id, status: .completed, paymentID: result.payment.id, now: now)
            try await AuditTrail.record(
                tx, .paymentReceived, object: AuditObject("payment", result.payment.id),
                before: ["invoice_status": invoice.status.rawValue], after: ["invoice_status": result.invoice.status.rawValue, "gateway": TestCardGateway.name, "transaction_id": event.transactionID],
                amounts: ["amount": amount, "credited": result.credited], account: checkout.clientID, now: now
            )
            return WebhookOutcome(
                event: event.type, checkoutID: event.checkoutID, result: result.invoice.status == .paid ? "paid" : "partially_paid",
                payment: PaymentRecord(result.payment), invoice: InvoiceState(result.invoice)
            )
        }
    }

    /// The simulated provider's payment page: the client "pays" (or cancels) a pending
    /// checkout, and the provider sends its signed notification through the same webhook path.
    public func simulateTestCardCheckout(clientID: UUID, checkoutID: UUID, succeed: Bool) async throws -> IdempotentResult<WebhookOutcome> {
        let checkout = try await checkout(id: checkoutID, clientID: clientID)
        guard checkout.status == .pending else { throw BillingError.conflict("this checkout is already \(checkout.status.rawValue)") }
        let event = TestCardGateway.Event(
            type: succeed ? "payment.succeeded" : "payment.failed", checkoutID: checkout.id.uuidString.lowercased(),
            transactionID: TestCardGateway.newTransactionID(), amount: checkout.amount.minorUnits, currency: checkout.amount.currency.code
        )
        let signed = try simulatedProvider.signedEvent(event)
        return try await handleTestCardWebhook(body: signed.body, signature: signed.signature)
    }

    public func checkout(id: UUID, clientID: UUID?) async throws -> CheckoutRepository.Checkout {
        guard let checkout = try await CheckoutRepository(database).find(id: id, clientID: clientID) else { throw BillingError.notFound("checkout") }
        return checkout
    }

    // MARK: Reading

    public func payments(clientID: UUID?, kind: Payment.Kind? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Payment] {
        try await PaymentRepository(database).list(clientID: clientID, kind: kind, sort: sort, limit: limit, offset: offset)
    }

    public func payment(id: UUID, clientID: UUID?) async throws -> Payment {
        guard let payment = try await PaymentRepository(database).find(id: id, clientID: clientID) else { throw BillingError.notFound("payment") }
        return payment
    }

    public func creditBalance(clientID: UUID) async throws -> Money {
        let currency = try await BillingProfileRepository(database).find(clientID: clientID)?.currency ?? settings.currency
        return try await CreditRepository(database).balance(clientID: clientID, currency: currency)
    }

    public func creditEntries(clientID: UUID, limit: Int = 100) async throws -> [CreditEntry] {
        try await CreditRepository(database).entries(clientID: clientID, limit: limit)
    }
}
