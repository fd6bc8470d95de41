import Foundation

/// Money received for an invoice, or given back (a refund).
///
/// Every payment carries a `uniqueKey` — the client's `Idempotency-Key`, or the gateway's
/// transaction id — that the database keeps unique, so the same money is never recorded twice.
public struct Payment: Sendable, Hashable, Identifiable {
    /// Money in or money out.
    public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
        case payment, refund
    }

    public var id: UUID
    public var invoiceID: UUID
    public var clientID: UUID
    public var kind: Kind
    /// `banktransfer`, `testcard`, or `credit` (client credit applied to the invoice).
    public var gateway: String
    /// Always positive; ``kind`` says the direction.
    public var amount: Money
    public var transactionID: String?
    public var uniqueKey: String
    /// For refunds: the payment refunded.
    public var refundOf: UUID?
    public var note: String
    public var createdAt: Date
    /// A refund's own document number: `RF-…` when money went back to the payer, `CN-…` (a
    /// credit note) when it went to the client's credit balance. `nil` for payments and for
    /// refunds recorded before refunds were numbered.
    public var documentNumber: String?

    public init(
        id: UUID, invoiceID: UUID, clientID: UUID, kind: Kind, gateway: String, amount: Money, transactionID: String?, uniqueKey: String,
        refundOf: UUID?, note: String, createdAt: Date, documentNumber: String? = nil
    ) {
        self.id = id
        self.invoiceID = invoiceID
        self.clientID = clientID
        self.kind = kind
        self.gateway = gateway
        self.amount = amount
        self.transactionID = transactionID
        self.uniqueKey = uniqueKey
        self.refundOf = refundOf
        self.note = note
        self.createdAt = createdAt
        self.documentNumber = documentNumber
    }

    /// The amount with its direction: refunds negative.
    public var signedAmount: Money { kind == .refund ? amount.negated : amount }
}
