import Foundation
import SteadfastDomain

/// An invoice as it stood when an idempotent operation answered. Everything such an operation
/// returns is made of snapshots like this, encoded once to JSON and stored with its key, so a
/// replay answers with exactly the same bytes as the original.
public struct InvoiceState: Codable, Sendable, Equatable {
    public let id: String
    public let number: String?
    public let status: String
    public let currency: String
    public let total: Int64
    public let amountPaid: Int64
    public let balanceDue: Int64
    public let dueDate: String
    /// Absent in answers stored before refunds were kept apart.
    public let amountRefunded: Int64?

    enum CodingKeys: String, CodingKey {
        case id, number, status, currency, total
        case amountPaid = "amount_paid"
        case balanceDue = "balance_due"
        case dueDate = "due_date"
        case amountRefunded = "amount_refunded"
    }

    public init(_ invoice: Invoice) {
        id = invoice.id.uuidString.lowercased()
        number = invoice.number
        status = invoice.status.rawValue
        currency = invoice.currency.code
        total = invoice.total.minorUnits
        amountPaid = invoice.amountPaid.minorUnits
        balanceDue = invoice.balanceDue.minorUnits
        dueDate = invoice.dueDate.iso
        amountRefunded = invoice.amountRefunded.minorUnits
    }
}
