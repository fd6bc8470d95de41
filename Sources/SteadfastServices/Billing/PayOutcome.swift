import Foundation
import SteadfastDomain
import SteadfastPersistence

/// What paying (or applying credit to, or recording a payment for) an invoice did.
public struct PayOutcome: Codable, Sendable, Equatable {
    /// `paid` (settled in full), `partially_paid`, `pending` (a checkout waits for the gateway),
    /// or `instructions` (bank transfer: nothing moved yet).
    public let result: String
    public let invoice: InvoiceState
    public let payment: PaymentRecord?
    public let checkout: CheckoutState?
    public let instructions: String?
    /// Minor units that went to the client's credit balance (a gateway overpayment).
    public let credited: Int64
    /// Stripe: the PaymentIntent, and (while the client must still act) the `client_secret` its
    /// card page needs.
    public let paymentIntent: String?
    public let clientSecret: String?

    enum CodingKeys: String, CodingKey {
        case result, invoice, payment, checkout, instructions, credited
        case paymentIntent = "payment_intent"
        case clientSecret = "client_secret"
    }

    init(
        result: String, invoice: Invoice, payment: Payment? = nil, checkout: CheckoutRepository.Checkout? = nil, instructions: String? = nil, credited: Int64 = 0,
        paymentIntent: String? = nil, clientSecret: String? = nil
    ) {
        self.result = result
        self.invoice = InvoiceState(invoice)
        self.payment = payment.map(PaymentRecord.init)
        self.checkout = checkout.map(CheckoutState.init)
        self.instructions = instructions
        self.credited = credited
        self.paymentIntent = paymentIntent
        self.clientSecret = clientSecret
    }

    static func settled(_ invoice: Invoice, payment: Payment, credited: Int64 = 0) -> PayOutcome {
        PayOutcome(result: invoice.status == .paid ? "paid" : "partially_paid", invoice: invoice, payment: payment, credited: credited)
    }
}
