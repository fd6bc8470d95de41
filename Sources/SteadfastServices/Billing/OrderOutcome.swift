import Foundation

/// What checking out a cart did.
public struct OrderOutcome: Codable, Sendable, Equatable {
    public let orderID: String
    public let invoiceID: String
    public let invoiceNumber: String?
    public let total: Int64
    public let currency: String

    enum CodingKeys: String, CodingKey {
        case total, currency
        case orderID = "order_id"
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
    }
}
