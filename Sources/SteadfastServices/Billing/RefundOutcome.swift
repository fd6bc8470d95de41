import Foundation

/// What a refund did.
public struct RefundOutcome: Codable, Sendable, Equatable {
    public let refund: PaymentRecord
    public let invoice: InvoiceState
    /// Whether the money went to the client's credit balance instead of back to the gateway.
    public let toCredit: Bool

    enum CodingKeys: String, CodingKey {
        case refund, invoice
        case toCredit = "to_credit"
    }
}
