import Foundation

/// What a Stripe webhook delivery did. `result`: `paid` / `partially_paid` (payment recorded,
/// or found already recorded), `failed`, `refunded`, `disputed`, or `ignored` (an event type
/// the portal does not act on, or a PaymentIntent it did not create).
public struct StripeWebhookOutcome: Codable, Sendable, Equatable {
    public let event: String
    public let type: String
    public let result: String
    public let paymentIntent: String?
    public let payment: PaymentRecord?
    public let invoice: InvoiceState?

    enum CodingKeys: String, CodingKey {
        case event, type, result, payment, invoice
        case paymentIntent = "payment_intent"
    }
}
