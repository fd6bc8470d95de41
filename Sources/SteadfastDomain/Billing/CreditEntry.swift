import Foundation

/// One movement on a client's credit balance. The ledger is append-only: the balance is the
/// sum of the entries, and nothing is ever updated or deleted.
public struct CreditEntry: Sendable, Hashable, Identifiable {
    /// Why the balance moved.
    public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
        /// Staff added credit (positive).
        case added
        /// Staff removed credit (negative).
        case removed
        /// Credit paid part of an invoice (negative).
        case applied
        /// A refund was given as credit (positive).
        case refund
        /// A gateway payment larger than what was owed; the rest became credit (positive).
        case overpayment
    }

    public var id: UUID
    public var clientID: UUID
    /// Positive adds to the balance, negative takes from it.
    public var amount: Money
    public var kind: Kind
    public var invoiceID: UUID?
    public var description: String
    public var createdAt: Date

    public init(id: UUID, clientID: UUID, amount: Money, kind: Kind, invoiceID: UUID?, description: String, createdAt: Date) {
        self.id = id
        self.clientID = clientID
        self.amount = amount
        self.kind = kind
        self.invoiceID = invoiceID
        self.description = description
        self.createdAt = createdAt
    }
}
