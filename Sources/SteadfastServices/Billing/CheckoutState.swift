import Foundation
import SteadfastPersistence

/// A card checkout waiting for the gateway.
public struct CheckoutState: Codable, Sendable, Equatable {
    public let id: String
    public let status: String
    public let amount: Int64
    public let currency: String
    /// Where the client completes the payment with the provider.
    public let paymentURL: String

    enum CodingKeys: String, CodingKey {
        case id, status, amount, currency
        case paymentURL = "payment_url"
    }

    init(_ checkout: CheckoutRepository.Checkout) {
        id = checkout.id.uuidString.lowercased()
        status = checkout.status.rawValue
        amount = checkout.amount.minorUnits
        currency = checkout.amount.currency.code
        paymentURL = "/clientarea/checkouts/\(id)"
    }
}
