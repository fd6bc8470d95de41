import Foundation
import SteadfastDomain

/// A payment or refund as the API shows it.
public struct PaymentRecord: Codable, Sendable, Equatable {
    public let id: String
    public let invoiceID: String
    public let kind: String
    public let gateway: String
    public let amount: Int64
    public let currency: String
    public let transactionID: String?
    public let refundOf: String?
    public let createdAt: String
    /// A refund's own number (`RF-…` refund, `CN-…` credit note).
    public let documentNumber: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, gateway, amount, currency
        case documentNumber = "document_number"
        case invoiceID = "invoice_id"
        case transactionID = "transaction_id"
        case refundOf = "refund_of"
        case createdAt = "created_at"
    }

    public init(_ payment: Payment) {
        id = payment.id.uuidString.lowercased()
        invoiceID = payment.invoiceID.uuidString.lowercased()
        kind = payment.kind.rawValue
        gateway = payment.gateway
        amount = payment.amount.minorUnits
        currency = payment.amount.currency.code
        transactionID = payment.transactionID
        refundOf = payment.refundOf?.uuidString.lowercased()
        createdAt = Timestamp.iso(payment.createdAt)
        documentNumber = payment.documentNumber
    }
}
