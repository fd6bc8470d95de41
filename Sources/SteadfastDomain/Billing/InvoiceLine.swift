import Foundation

/// One line of an invoice with its amounts already split into net, tax and gross.
public struct InvoiceLine: Sendable, Hashable, Identifiable {
    /// What the line is for.
    public enum Kind: String, Sendable, Codable, CaseIterable, Hashable {
        /// The first period of a newly ordered product.
        case product
        /// A one-off setup fee.
        case setup
        /// A renewal period of a service.
        case renewal
        /// A fee for paying late.
        case lateFee = "late_fee"
        /// Anything staff add by hand.
        case custom
    }

    public var id: UUID
    public var position: Int
    public var kind: Kind
    public var description: String
    public var serviceID: UUID?
    public var amounts: LineAmounts
    public var taxable: Bool
    /// The service period this line pays for, `[start, end)`, when it is a period.
    public var periodStart: BillingDate?
    public var periodEnd: BillingDate?

    public init(
        id: UUID, position: Int, kind: Kind, description: String, serviceID: UUID?, amounts: LineAmounts, taxable: Bool,
        periodStart: BillingDate? = nil, periodEnd: BillingDate? = nil
    ) {
        self.id = id
        self.position = position
        self.kind = kind
        self.description = description
        self.serviceID = serviceID
        self.amounts = amounts
        self.taxable = taxable
        self.periodStart = periodStart
        self.periodEnd = periodEnd
    }
}
