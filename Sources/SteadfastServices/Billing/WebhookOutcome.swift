import Foundation

/// What a gateway webhook did.
public struct WebhookOutcome: Codable, Sendable, Equatable {
    public let event: String
    public let checkoutID: String
    public let result: String
    public let payment: PaymentRecord?
    public let invoice: InvoiceState?

    enum CodingKeys: String, CodingKey {
        case event, result, payment, invoice
        case checkoutID = "checkout_id"
    }
}
