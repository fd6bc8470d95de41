import Foundation

/// A line before tax: what is being charged and its price as quoted (net or gross per the
/// tax mode). ``InvoiceCalculator`` turns drafts into ``InvoiceLine``s.
public struct InvoiceLineDraft: Sendable, Hashable {
    public var kind: InvoiceLine.Kind
    public var description: String
    public var serviceID: UUID?
    public var price: Money
    public var taxable: Bool
    public var periodStart: BillingDate?
    public var periodEnd: BillingDate?

    public init(kind: InvoiceLine.Kind, description: String, serviceID: UUID? = nil, price: Money, taxable: Bool = true, periodStart: BillingDate? = nil, periodEnd: BillingDate? = nil) {
        self.kind = kind
        self.description = description
        self.serviceID = serviceID
        self.price = price
        self.taxable = taxable
        self.periodStart = periodStart
        self.periodEnd = periodEnd
    }
}
