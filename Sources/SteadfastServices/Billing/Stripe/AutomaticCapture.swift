import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Runs the writes of one capture run: in the scheduler, each one first checks that the run
/// still holds its slot (`JobContext.fencedTransaction`), so a run taken over by another node
/// can never commit late.
public protocol CaptureTransactions: Sendable {
    func run<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T
}

/// Plain transactions (for calls outside the scheduler, such as tests of the rules).
public struct PlainCaptureTransactions: CaptureTransactions {
    let database: any SQLDatabase
    public init(database: any SQLDatabase) { self.database = database }
    public func run<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await database.transaction(body)
    }
}

/// The automatic capture (docs/billing.md, "Automatic capture"): charges each client's default
/// saved card, off-session, for payable invoices due within `billing.capture_days_before_due`,
/// and retries failures on `billing.capture_retry` (``CapturePlan``).
///
/// Exactly once, even when a node dies mid-charge: attempt `n` of an invoice is first claimed
/// (a `billing_capture_attempts` row, primary key invoice + attempt, written in a fenced
/// transaction), and only then is Stripe asked, with the provider key
/// `steadfast-pay-<invoice>-capture-<n>` and the invoice and attempt in the PaymentIntent's
/// metadata. An attempt found still `charging` by a later run is never charged blindly: the run
/// first looks at Stripe for the PaymentIntent of that invoice and attempt (by the stored
/// PaymentIntent id, else among the customer's charges since the claim), and records what it
/// finds — the payment under its unique key `stripe:<pi>`, once. Only when Stripe has nothing
/// for the attempt is it charged, with the same provider key.
public struct AutomaticCapture: Sendable {
    public let payments: StripePayments

    public init(payments: StripePayments) {
        self.payments = payments
    }

    /// What one run did.
    public struct Report: Sendable, Equatable {
        public var captured = 0
        public var failed = 0
        /// Attempts found unfinished and settled from what Stripe reported.
        public var resumed = 0
        /// Attempts left `charging` (Stripe unreachable, or the payment still processing).
        public var open = 0
        public init() {}
    }

    /// Some invoices could not be handled (Stripe unreachable...): the others were.
    public struct Failures: Error, CustomStringConvertible {
        public let report: Report
        public let failures: [String]
        public var description: String { "automatic capture: \(failures.count) invoice(s) failed: \(failures.prefix(5).joined(separator: "; "))" }
    }

    static let batchSize = 100

    var database: any SQLDatabase { payments.database }
    var settings: BillingSettings { payments.settings }
    var plan: CapturePlan { CapturePlan(retry: settings.captureRetry) }

    /// One pass over every invoice due for capture as of `now`.
    public func run(now: Date, transactions: some CaptureTransactions) async throws -> Report {
        var report = Report()
        guard settings.gateways.contains(StripeGateway.name) else { return report }
        let cutoff = settings.day(now).adding(days: settings.captureDaysBeforeDue)
        var seen = Set<UUID>()
        var failures: [String] = []
        while true {
            let fresh = try await CaptureAttemptRepository(database).candidates(dueOnOrBefore: cutoff, limit: Self.batchSize)
                .filter { !seen.contains($0.invoiceID) }
            if fresh.isEmpty { break }
            for candidate in fresh {
                seen.insert(candidate.invoiceID)
                do {
                    try await capture(candidate, now: now, transactions: transactions, report: &report)
                } catch let error as GatewayError {
                    failures.append("\(candidate.invoiceID.uuidString.lowercased()): \(error.message)")
                } catch let error as BillingError {
                    failures.append("\(candidate.invoiceID.uuidString.lowercased()): \(error.message)")
                }
            }
        }
        guard failures.isEmpty else { throw Failures(report: report, failures: failures) }
        return report
    }

    func capture(_ candidate: CaptureAttemptRepository.Candidate, now: Date, transactions: some CaptureTransactions, report: inout Report) async throws {
        let attempts = try await CaptureAttemptRepository(database).attempts(invoiceID: candidate.invoiceID)
        switch plan.decide(attempts: attempts.map(\.plan), now: now) {
        case .wait, .exhausted:
            return
        case .resume(let number):
            guard let attempt = attempts.first(where: { $0.number == number }) else { return }
            report.resumed += 1
            try await charge(attempt, lookUp: true, now: now, transactions: transactions, report: &report)
        case .charge(let number):
            guard let card = try await SavedCardRepository(database).defaultCard(clientID: candidate.clientID),
                  let invoice = try await InvoiceRepository(database).find(id: candidate.invoiceID, withLines: false),
                  invoice.status.isPayable, invoice.balanceDue.minorUnits > 0 else { return }
            let attempt = CaptureAttemptRepository.Attempt(
                invoiceID: invoice.id, number: number, clientID: invoice.clientID, paymentMethodID: card.id, amount: invoice.balanceDue,
                status: .charging, startedAt: now
            )
            let claimed = try await transactions.run { tx in try await CaptureAttemptRepository(tx).claim(attempt) }
            // Claimed by another run already: that run (or the next one, resuming) finishes it.
            guard claimed else { return }
            try await charge(attempt, lookUp: false, now: now, transactions: transactions, report: &report)
        }
    }

    /// Charges a claimed attempt, or (`lookUp`) first finds what Stripe did for it.
    func charge(_ attempt: CaptureAttemptRepository.Attempt, lookUp: Bool, now: Date, transactions: some CaptureTransactions, report: inout Report) async throws {
        let customer = try await payments.customer(for: attempt.clientID)
        let request = GatewayPaymentRequest(
            invoiceID: attempt.invoiceID, clientID: attempt.clientID, amount: attempt.amount, attempt: "capture-\(attempt.number)", customerID: customer,
            paymentMethod: attempt.paymentMethodID, confirm: true
        )
        var found: GatewayPayment?
        if lookUp { found = try await existingPayment(for: request, intentID: attempt.intentID, claimedAt: attempt.startedAt) }
        let payment: GatewayPayment
        if let found {
            payment = found
        } else {
            do {
                payment = try await payments.gateway.chargeSaved(request)
            } catch let error as GatewayError where error.kind == .declined || error.kind == .rejected {
                try await fail(attempt, intentID: nil, reason: error.message, now: now, transactions: transactions)
                report.failed += 1
                return
            }
        }
        try await StripeRepository(database).saveIntent(
            .init(id: payment.id, invoiceID: attempt.invoiceID, clientID: attempt.clientID, amount: payment.amount, status: .open), now: now
        )
        switch payment.status {
        case .succeeded:
            let settings = self.settings
            try await transactions.run { tx in
                let ledger = BillingLedger(tx: tx, settings: settings, now: now)
                _ = try await ledger.lockClient(attempt.clientID)
                _ = try await StripePayments.settle(payment, invoiceID: attempt.invoiceID, ledger: ledger)
                _ = try await CaptureAttemptRepository(tx).finish(
                    invoiceID: attempt.invoiceID, number: attempt.number, status: .succeeded, intentID: payment.id, failure: nil, now: now
                )
            }
            report.captured += 1
        case .failed, .requiresAction:
            // requires_action off-session: the bank wants the client to confirm; they pay on the invoice page.
            try await StripeRepository(database).setStatus(id: payment.id, .failed, now: now)
            let reason = payment.failureMessage ?? (payment.status == .requiresAction ? "your bank asks you to confirm the payment yourself" : "the card was declined")
            try await fail(attempt, intentID: payment.id, reason: reason, now: now, transactions: transactions)
            report.failed += 1
        case .pending:
            // Processing at Stripe: the webhook records it; the next run looks again.
            try await transactions.run { tx in
                try await CaptureAttemptRepository(tx).setIntent(invoiceID: attempt.invoiceID, number: attempt.number, intentID: payment.id)
            }
            report.open += 1
        }
    }

    /// What Stripe did for an attempt whose outcome was never recorded: its PaymentIntent, by
    /// the stored id, or by the invoice and attempt in the metadata of the PaymentIntents
    /// behind the customer's charges since the claim. `nil`: Stripe has nothing for it.
    func existingPayment(for request: GatewayPaymentRequest, intentID: String?, claimedAt: Date) async throws -> GatewayPayment? {
        let client = payments.gateway.client
        if let intentID { return try StripeGateway.payment(try await client.paymentIntent(id: intentID)) }
        guard let customer = request.customerID else { return nil }
        let invoice = request.invoiceID.uuidString.lowercased()
        var checked = Set<String>()
        // A margin for clocks: the node's and Stripe's need not agree to the second.
        for charge in try await client.charges(customer: customer, createdAfter: claimedAt.addingTimeInterval(-600)) {
            guard let id = charge.paymentIntent, checked.insert(id).inserted else { continue }
            let intent = try await client.paymentIntent(id: id)
            if intent.metadata?["invoice_id"] == invoice, intent.metadata?["attempt"] == request.attempt {
                return try StripeGateway.payment(intent)
            }
        }
        return nil
    }

    /// Ends an attempt as failed and, in the same transaction, queues the client's e-mail
    /// (once per invoice and attempt) saying when the next attempt is, if any.
    func fail(_ attempt: CaptureAttemptRepository.Attempt, intentID: String?, reason: String, now: Date, transactions: some CaptureTransactions) async throws {
        let previous = try await CaptureAttemptRepository(database).attempts(invoiceID: attempt.invoiceID).filter { $0.number != attempt.number }
        var failed = attempt
        failed.status = .failed
        failed.finishedAt = now
        let next: BillingDate? = switch plan.decide(attempts: (previous + [failed]).map(\.plan), now: now) {
        case .wait(let until): settings.day(until)
        case .charge: settings.day(now)
        case .resume, .exhausted: nil
        }
        try await transactions.run { tx in
            guard try await CaptureAttemptRepository(tx).finish(
                invoiceID: attempt.invoiceID, number: attempt.number, status: .failed, intentID: intentID, failure: reason, now: now
            ) else { return }
            guard let invoice = try await InvoiceRepository(tx).find(id: attempt.invoiceID, withLines: false) else { return }
            let card = try await tx.first("SELECT brand, last4 FROM stripe_payment_methods WHERE payment_method_id = \(attempt.paymentMethodID)")
            let label = try card.map { "\(try $0.string("brand")) ending \(try $0.string("last4"))" } ?? "saved card"
            try await BillingMail(tx: tx, now: now).captureFailed(
                invoice: invoice, attempt: attempt.number, amount: attempt.amount, card: label, reason: reason, nextAttempt: next
            )
            try await AuditTrail.record(
                tx, .captureFailed, object: AuditObject("invoice", invoice.id),
                after: ["attempt": String(attempt.number), "reason": reason, "card": label, "next_attempt": next?.iso ?? ""], amounts: ["amount": attempt.amount],
                account: invoice.clientID, now: now
            )
        }
    }
}
