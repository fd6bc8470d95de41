import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Card payments through Stripe, exactly once (docs/billing.md, "Stripe").
///
/// A PaymentIntent pays one invoice and is recorded as ONE payment with the unique key
/// `stripe:<pi_...>`, whichever path sees it succeed first: the client's own request (a
/// server-side confirm) or the `payment_intent.succeeded` webhook, on any node, in any order,
/// as often as they like. Both paths lock the client's billing row, look the key up, and insert
/// only if it is not there, in one transaction. Calls to Stripe happen outside database
/// transactions, each with an `Idempotency-Key` derived from invoice and attempt, so a retry
/// (on this or another node) is the same PaymentIntent at Stripe.
public struct StripePayments: Sendable {
    let database: any SQLDatabase
    let settings: BillingSettings
    let clock: any WallClock
    public let gateway: StripeGateway

    public init(database: any SQLDatabase, settings: BillingSettings, clock: any WallClock, gateway: StripeGateway) {
        self.database = database
        self.settings = settings
        self.clock = clock
        self.gateway = gateway
    }

    var guardian: IdempotencyGuard { IdempotencyGuard(database: database, clock: clock) }

    static func paymentKey(_ intentID: String) -> String { "stripe:\(intentID)" }

    private func lock(_ clientID: UUID, now: Date) -> @Sendable (any SQLExecutor) async throws -> Void {
        PaymentService.clientLock(clientID, settings: settings, now: now)
    }

    // MARK: The client pays

    /// `POST /api/v1/invoices/{id}/pay` with `gateway=stripe`. With `paymentMethod` the
    /// PaymentIntent is confirmed on the server: `paid`/`partially_paid`, or a decline
    /// (``BillingErrorKind/paymentDeclined``). Without it the answer is `pending` with the
    /// PaymentIntent's `client_secret` for Stripe's card element; the webhook records the payment.
    public func pay(clientID: UUID, invoiceID: UUID, amount: Int64?, paymentMethod: String?, idempotencyKey: String?) async throws -> IdempotentResult<PayOutcome> {
        let key = try IdempotencyGuard.validate(idempotencyKey)
        guard settings.gateways.contains(StripeGateway.name) else {
            throw BillingError.invalid("payment method must be one of: \(settings.gateways.sorted().joined(separator: ", "))", field: "gateway")
        }
        if let amount, amount <= 0 { throw BillingError.invalid("the amount must be more than zero", field: "amount") }
        if let paymentMethod {
            do { _ = try StripeClient.pathComponent(paymentMethod) } catch {
                throw BillingError.invalid("payment_method must be a Stripe payment method id such as pm_...", field: "payment_method")
            }
        }
        let recordKey = "pay:\(clientID.uuidString.lowercased()):\(key)"
        let fingerprint = "invoice=\(invoiceID.uuidString.lowercased());gateway=stripe;amount=\(amount.map(String.init) ?? "due");pm=\(paymentMethod ?? "-")"
        // An answered request is answered again without asking Stripe anything.
        if let stored: IdempotentResult<PayOutcome> = try await guardian.stored(key: recordKey, fingerprint: fingerprint) { return stored }

        let money = try PaymentService.amountToPay(
            try await InvoiceRepository(database).find(id: invoiceID, clientID: clientID, withLines: false), requested: amount
        )
        let customer = try await customer(for: clientID)
        let request = GatewayPaymentRequest(
            invoiceID: invoiceID, clientID: clientID, amount: money, attempt: key, customerID: customer, paymentMethod: paymentMethod, confirm: paymentMethod != nil
        )
        let payment: GatewayPayment
        do {
            payment = try await gateway.createPayment(request)
        } catch let error as GatewayError where error.kind == .declined {
            throw BillingError(.paymentDeclined, "the card was declined: \(error.message)", field: "payment_method")
        }
        let now = clock.now()
        try await StripeRepository(database).saveIntent(
            .init(id: payment.id, invoiceID: invoiceID, clientID: clientID, amount: payment.amount, status: .open), now: now
        )
        if payment.status == .failed {
            try await StripeRepository(database).setStatus(id: payment.id, .failed, now: now)
            throw BillingError(.paymentDeclined, "the card was declined: \(payment.failureMessage ?? "no reason given")", field: "payment_method")
        }
        let settings = self.settings
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            if payment.status == .succeeded {
                let (recorded, invoice) = try await Self.settle(payment, invoiceID: invoiceID, ledger: ledger)
                return PayOutcome(result: invoice.status == .paid ? "paid" : "partially_paid", invoice: invoice, payment: recorded, paymentIntent: payment.id)
            }
            guard let invoice = try await ledger.invoices.find(id: invoiceID, lock: true, withLines: false) else { throw BillingError.notFound("invoice") }
            try await AuditTrail.record(
                tx, .paymentStarted, object: AuditObject("invoice", invoiceID), after: ["gateway": StripeGateway.name, "result": "pending", "payment_intent": payment.id],
                amounts: ["amount": money], account: clientID, now: now
            )
            return PayOutcome(result: "pending", invoice: invoice, paymentIntent: payment.id, clientSecret: payment.clientSecret)
        }
    }

    /// The client's Stripe customer: the stored one, or one created at Stripe and stored once.
    /// Creation carries the key `steadfast-customer-<client>`, so two nodes creating it at the
    /// same moment get the same customer from Stripe; the table keeps the first either way.
    public func customer(for clientID: UUID) async throws -> String {
        let customers = StripeRepository(database)
        if let known = try await customers.customer(clientID: clientID) { return known }
        let email = try await AccountRepository(database: database).find(id: clientID)?.email.value
        let created = try await gateway.client.createCustomer(
            clientID: clientID, email: email, idempotencyKey: "steadfast-customer-\(clientID.uuidString.lowercased())"
        )
        return try await customers.saveCustomer(clientID: clientID, customerID: created.id, now: clock.now())
    }

    /// Records a succeeded PaymentIntent once (inside the caller's transaction, after the
    /// client lock): the payment already recorded under `stripe:<pi>` if there is one.
    static func settle(_ payment: GatewayPayment, invoiceID: UUID, ledger: BillingLedger) async throws -> (Payment, Invoice) {
        guard let invoice = try await ledger.invoices.find(id: invoiceID, lock: true, withLines: false) else { throw BillingError.notFound("invoice") }
        try await StripeRepository(ledger.tx).markSucceeded(id: payment.id, now: ledger.now)
        if let existing = try await ledger.payments.find(uniqueKey: paymentKey(payment.id)) {
            return (existing, invoice)
        }
        // Money Stripe has taken is never refused: beyond the balance it becomes credit.
        let result = try await ledger.recordPayment(
            on: invoice, amount: payment.amount, gateway: StripeGateway.name, uniqueKey: paymentKey(payment.id), transactionID: payment.id,
            note: "Card payment (Stripe)", excessToCredit: true
        )
        try await BillingMail(tx: ledger.tx, now: ledger.now).paymentReceived(result.payment, invoice: result.invoice)
        // Whoever brought the news: the client's own confirmation, the webhook, or the capture job.
        try await AuditTrail.record(
            ledger.tx, .paymentReceived, object: AuditObject("payment", result.payment.id),
            before: ["invoice_status": invoice.status.rawValue], after: ["invoice_status": result.invoice.status.rawValue, "gateway": StripeGateway.name, "transaction_id": payment.id],
            amounts: ["amount": payment.amount, "credited": result.credited], account: invoice.clientID, now: ledger.now
        )
        return (result.payment, result.invoice)
    }

    // MARK: Webhooks

    /// `POST /api/v1/gateways/stripe/webhook`: verifies `Stripe-Signature` (a bad one is a 400
    /// and applies nothing), then applies the event once under `webhook:stripe:<evt_...>`.
    public func handleWebhook(body: [UInt8], signature: String?) async throws -> IdempotentResult<StripeWebhookOutcome> {
        guard settings.gateways.contains(StripeGateway.name) else { throw BillingError.notFound("gateway") }
        let event: GatewayEvent
        do {
            event = try gateway.parseWebhook(body: body, signature: signature, now: clock.now())
        } catch let error as GatewayError {
            throw BillingError.invalid(error.message, field: error.kind == .badSignature ? "Stripe-Signature" : "body")
        }
        let intentID: String
        switch event.kind {
        case .paymentSucceeded(let payment), .paymentFailed(let payment): intentID = payment.id
        case .refunded(let paymentID, _): intentID = paymentID
        case .disputed(let target, _, _, _):
            intentID = target.hasPrefix("ch_") ? (try await gateway.client.charge(id: target).paymentIntent ?? target) : target
        case .ignored: return Self.unstored(event, result: "ignored", intentID: nil)
        }
        guard let intent = try await StripeRepository(database).intent(id: intentID) else {
            // Not a PaymentIntent this portal created (another integration on the account).
            return Self.unstored(event, result: "ignored", intentID: intentID)
        }
        let recordKey = "webhook:stripe:\(event.id)"
        let fingerprint = "type=\(event.type);intent=\(intentID)"
        let now = clock.now()
        return try await guardian.runNotification(from: StripeGateway.name, key: recordKey, fingerprint: fingerprint, clientID: intent.clientID, settings: settings, now: now) { ledger, tx in
            let intents = StripeRepository(tx)
            func outcome(_ result: String, _ payment: Payment?, _ invoice: Invoice?) -> StripeWebhookOutcome {
                StripeWebhookOutcome(
                    event: event.id, type: event.type, result: result, paymentIntent: intentID, payment: payment.map(PaymentRecord.init),
                    invoice: invoice.map(InvoiceState.init)
                )
            }
            switch event.kind {
            case .paymentSucceeded(let payment):
                guard payment.amount.currency == intent.amount.currency else {
                    throw BillingError(.currencyMismatch, "the event's currency is not the PaymentIntent's", field: "currency")
                }
                let (recorded, invoice) = try await Self.settle(payment, invoiceID: intent.invoiceID, ledger: ledger)
                return outcome(invoice.status == .paid ? "paid" : "partially_paid", recorded, invoice)
            case .paymentFailed(let payment):
                // A later success (the client tried another card) wins over an earlier failure.
                if intent.status == .open {
                    try await intents.setStatus(id: intentID, .failed, now: now)
                    try await AuditTrail.record(
                        tx, .paymentFailed, object: AuditObject("invoice", intent.invoiceID), after: ["payment_intent": intentID, "reason": payment.failureMessage ?? ""],
                        amounts: ["amount": intent.amount], account: intent.clientID, now: now
                    )
                }
                return outcome("failed", nil, try await ledger.invoices.find(id: intent.invoiceID, withLines: false))
            case .refunded(_, let total):
                let (refund, invoice) = try await Self.syncRefunds(intentID: intentID, total: total, ledger: ledger)
                return outcome("refunded", refund, invoice)
            case .disputed(_, let disputeID, _, _):
                try await intents.setStatus(id: intentID, .disputed, disputeID: disputeID, now: now)
                let payment = try await ledger.payments.find(uniqueKey: Self.paymentKey(intentID))
                try await AuditTrail.record(
                    tx, .paymentDisputed, object: payment.map { AuditObject("payment", $0.id) } ?? AuditObject(rawType: "payment_intent", id: intentID),
                    before: ["intent_status": intent.status.rawValue], after: ["intent_status": "disputed", "dispute_id": disputeID], amounts: ["amount": intent.amount],
                    account: intent.clientID, now: now
                )
                return outcome("disputed", payment, try await ledger.invoices.find(id: intent.invoiceID, withLines: false))
            case .ignored:
                return outcome("ignored", nil, nil)
            }
        }
    }

    // MARK: Refunds

    /// Staff refund (part of) a Stripe payment: Stripe is asked first (keyed by payment and the
    /// staff's `Idempotency-Key`, so a retry is the same refund at Stripe), then the ledger is
    /// brought up to the total Stripe reports refunded. The `charge.refunded` webhook does the
    /// same, so whichever comes first records the refund and the other records nothing.
    func refund(staffID: UUID, original: Payment, amount: Int64?, idempotencyKey key: String) async throws -> IdempotentResult<RefundOutcome> {
        let recordKey = "refund:\(staffID.uuidString.lowercased()):\(key)"
        let fingerprint = "payment=\(original.id.uuidString.lowercased());amount=\(amount.map(String.init) ?? "all");credit=false"
        if let stored: IdempotentResult<RefundOutcome> = try await guardian.stored(key: recordKey, fingerprint: fingerprint) { return stored }
        guard let intentID = original.transactionID else { throw BillingError.conflict("this payment has no Stripe PaymentIntent") }
        let overpaid = try await CreditRepository(database).overpayment(paymentID: original.id)
        let remaining = original.amount.minorUnits - overpaid - (try await PaymentRepository(database).refunded(paymentID: original.id))
        let value = amount ?? remaining
        guard remaining > 0 else { throw BillingError.conflict("this payment has been refunded in full") }
        guard value <= remaining else {
            throw BillingError.invalid("at most \(Money(minorUnits: remaining, currency: original.amount.currency).formatted) can still be refunded", field: "amount")
        }
        let refund = try await gateway.client.createRefund(
            paymentIntent: intentID, amount: value, idempotencyKey: "steadfast-refund-\(original.id.uuidString.lowercased())-\(key)"
        )
        guard let chargeID = refund.charge else { throw GatewayError(.rejected, "Stripe's refund names no charge") }
        let charge = try await gateway.client.charge(id: chargeID)
        let total = Money(minorUnits: charge.amountRefunded, currency: try StripeGateway.currency(charge.currency))
        let settings = self.settings
        let now = clock.now()
        return try await guardian.run(key: recordKey, fingerprint: fingerprint, lock: lock(original.clientID, now: now)) { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            let (recorded, invoice) = try await Self.syncRefunds(intentID: intentID, total: total, ledger: ledger)
            // Recorded by the webhook already: answer with that refund.
            var latest = recorded
            if latest == nil { latest = try await ledger.payments.list(invoiceID: original.invoiceID, limit: 200).first { $0.refundOf == original.id } }
            guard let latest, let invoice else { throw BillingError.conflict("Stripe refunded the payment but no refund could be recorded") }
            return RefundOutcome(refund: PaymentRecord(latest), invoice: InvoiceState(invoice), toCredit: false)
        }
    }

    /// Brings the ledger's refunds of a PaymentIntent's payment up to Stripe's total refunded
    /// (`total` only grows, so this is idempotent: a repeated or late event records nothing).
    /// Returns the refund recorded now, if any, and the invoice.
    static func syncRefunds(intentID: String, total: Money, ledger: BillingLedger) async throws -> (Payment?, Invoice?) {
        guard let original = try await ledger.payments.find(uniqueKey: paymentKey(intentID)) else {
            // Stripe retries failed deliveries: by then the payment is recorded.
            throw BillingError.conflict("the payment of \(intentID) is not recorded yet")
        }
        let recorded = try await ledger.payments.refunded(paymentID: original.id)
        let missing = total.minorUnits - recorded
        guard missing > 0, total.currency == original.amount.currency else {
            return (nil, try await ledger.invoices.find(id: original.invoiceID, withLines: false))
        }
        let amount = Money(minorUnits: missing, currency: total.currency)
        let (refund, invoice) = try await ledger.recordRefund(
            of: original, amount: amount, uniqueKey: "stripe-refund:\(intentID):\(total.minorUnits)",
            transactionID: nil, note: "Refunded at Stripe", toCredit: false
        )
        // Staff asking Stripe, or Stripe's webhook: whichever records the refund.
        try await AuditTrail.record(
            ledger.tx, .paymentRefunded, object: AuditObject("payment", original.id), after: ["refund_id": refund.id.uuidString.lowercased(), "to_credit": "false", "gateway": StripeGateway.name],
            amounts: ["amount": amount], account: original.clientID, now: ledger.now
        )
        return (refund, invoice)
    }

    static func unstored(_ event: GatewayEvent, result: String, intentID: String?) -> IdempotentResult<StripeWebhookOutcome> {
        let value = StripeWebhookOutcome(event: event.id, type: event.type, result: result, paymentIntent: intentID, payment: nil, invoice: nil)
        let json = String(decoding: (try? IdempotencyGuard.encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
        return IdempotentResult(value: value, json: json, replayed: false)
    }
}
