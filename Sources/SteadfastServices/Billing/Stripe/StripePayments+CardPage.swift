import Foundation
import SteadfastDomain
import SteadfastPersistence

/// The card page (docs/billing.md, "The card page"): the client's browser confirms the
/// PaymentIntent with Stripe's card element, then returns to the portal. The return carries only
/// the PaymentIntent's id; what it paid is read back from Stripe and recorded through the same
/// record-once path as the `payment_intent.succeeded` webhook, so the return and the webhook,
/// on any nodes at the same moment, apply the payment once.
extension StripePayments {
    /// What the client's return from the card page found at Stripe.
    public struct CardReturn: Sendable {
        public enum Result: String, Sendable {
            /// Stripe took the money; the payment is recorded (now, or earlier by the webhook).
            case paid, partiallyPaid = "partially_paid"
            /// Stripe is still working on it, or the client has not finished (the webhook records it).
            case pending
            /// The card was declined: nothing is recorded.
            case declined
        }

        public let result: Result
        public let invoice: Invoice
        public let payment: Payment?
        /// The card saved for later, when the client asked and Stripe charged a card.
        public let savedCard: SavedCardRepository.Card?
        public let failureMessage: String?
    }

    /// The client's return from the card page for `paymentIntentID`. Only a PaymentIntent this
    /// portal made for this client's `invoiceID` is looked at (anything else is "not found");
    /// its state is Stripe's, never the browser's. With `saveCard`, the card Stripe charged is
    /// saved for the automatic capture (attached to the client's customer when Stripe has not).
    public func completeCardPage(clientID: UUID, invoiceID: UUID, paymentIntentID: String, saveCard: Bool) async throws -> CardReturn {
        do { _ = try StripeClient.pathComponent(paymentIntentID) } catch {
            throw BillingError.invalid("payment_intent must be a Stripe PaymentIntent id such as pi_...", field: "payment_intent")
        }
        guard let intent = try await StripeRepository(database).intent(id: paymentIntentID), intent.clientID == clientID, intent.invoiceID == invoiceID else {
            throw BillingError.notFound("payment intent")
        }
        let payment = try await gateway.payment(id: paymentIntentID)
        let settings = self.settings
        let now = clock.now()
        switch payment.status {
        case .succeeded:
            guard payment.amount.currency == intent.amount.currency else {
                throw BillingError(.currencyMismatch, "the PaymentIntent's currency is not the invoice's", field: "payment_intent")
            }
            let lock = PaymentService.clientLock(clientID, settings: settings, now: now)
            let (recorded, invoice) = try await database.transaction { tx in
                try await lock(tx)
                return try await Self.settle(payment, invoiceID: invoiceID, ledger: BillingLedger(tx: tx, settings: settings, now: now))
            }
            var saved: SavedCardRepository.Card?
            if saveCard, let method = payment.paymentMethod, let customer = try await StripeRepository(database).customer(clientID: clientID) {
                saved = try await storeCard(clientID: clientID, methodID: method, customer: customer)
            }
            return CardReturn(
                result: invoice.status == .paid ? .paid : .partiallyPaid, invoice: invoice, payment: recorded, savedCard: saved, failureMessage: nil
            )
        case .failed:
            if intent.status == .open {
                try await database.transaction { tx in
                    try await StripeRepository(tx).setStatus(id: paymentIntentID, .failed, now: now)
                    try await AuditTrail.record(
                        tx, .paymentFailed, object: AuditObject("invoice", invoiceID), after: ["payment_intent": paymentIntentID, "reason": payment.failureMessage ?? ""],
                        amounts: ["amount": intent.amount], account: clientID, now: now
                    )
                }
            }
            return CardReturn(result: .declined, invoice: try await invoice(invoiceID, clientID: clientID), payment: nil, savedCard: nil, failureMessage: payment.failureMessage)
        case .pending, .requiresAction:
            return CardReturn(result: .pending, invoice: try await invoice(invoiceID, clientID: clientID), payment: nil, savedCard: nil, failureMessage: nil)
        }
    }

    private func invoice(_ id: UUID, clientID: UUID) async throws -> Invoice {
        guard let invoice = try await InvoiceRepository(database).find(id: id, clientID: clientID, withLines: false) else { throw BillingError.notFound("invoice") }
        return invoice
    }

    /// Where the page loads Stripe.js from: `https://js.stripe.com/v3/` for Stripe's API,
    /// otherwise `<billing.stripe.api_base>/js.stripe.com/v3/` (localstripe serves its mock there).
    public var scriptURL: String {
        gateway.client.apiBase == "https://api.stripe.com" ? "https://js.stripe.com/v3/" : gateway.client.apiBase + "/js.stripe.com/v3/"
    }

    /// The origins the card page's Content-Security-Policy adds: Stripe.js's (scripts and the
    /// card element's frames), the frames' (Stripe.js's, and on Stripe's own API also
    /// `https://hooks.stripe.com`, where real 3-D Secure challenges are framed, as Stripe's
    /// CSP guide lists) and the API's (what Stripe.js calls).
    public var pageOrigins: (script: String, frames: String, api: String) {
        let script = Self.origin(scriptURL)
        let frames = gateway.client.apiBase == "https://api.stripe.com" ? "\(script) https://hooks.stripe.com" : script
        return (script, frames, Self.origin(gateway.client.apiBase))
    }

    static func origin(_ url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host else { return "'none'" }
        return "\(scheme)://\(host)" + (parts.port.map { ":\($0)" } ?? "")
    }
}
