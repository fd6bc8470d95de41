import Foundation

/// A bill to a client: lines, tax, totals, due date, status and what has been paid.
///
/// `amountPaid` is the net of every payment (credit applied included) minus refunds;
/// ``balanceDue`` is what is still owed. `number` is set when the invoice is issued.
public struct Invoice: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var clientID: UUID
    public var number: String?
    public var status: InvoiceStatus
    public var currency: Currency
    public var issueDate: BillingDate?
    public var dueDate: BillingDate
    public var paidAt: Date?
    public var subtotal: Money
    public var tax: Money
    public var total: Money
    public var amountPaid: Money
    /// Name and rate of the tax charged (`nil`: no tax).
    public var taxName: String?
    public var taxRate: TaxRate?
    public var taxMode: TaxMode
    public var orderID: UUID?
    public var lines: [InvoiceLine]
    public var createdAt: Date

    public init(
        id: UUID, clientID: UUID, number: String?, status: InvoiceStatus, currency: Currency, issueDate: BillingDate?, dueDate: BillingDate,
        paidAt: Date?, subtotal: Money, tax: Money, total: Money, amountPaid: Money, taxName: String?, taxRate: TaxRate?, taxMode: TaxMode,
        orderID: UUID?, lines: [InvoiceLine], createdAt: Date
    ) {
        self.id = id
        self.clientID = clientID
        self.number = number
        self.status = status
        self.currency = currency
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.paidAt = paidAt
        self.subtotal = subtotal
        self.tax = tax
        self.total = total
        self.amountPaid = amountPaid
        self.taxName = taxName
        self.taxRate = taxRate
        self.taxMode = taxMode
        self.orderID = orderID
        self.lines = lines
        self.createdAt = createdAt
    }

    /// What is still owed: nothing once the invoice is paid, cancelled or refunded (a partial
    /// refund does not reopen a paid invoice), never negative.
    public var balanceDue: Money {
        switch status {
        case .paid, .cancelled, .refunded: .zero(currency)
        case .draft, .unpaid, .collections: Money(minorUnits: max(0, total.minorUnits - amountPaid.minorUnits), currency: currency)
        }
    }

    /// Whether the invoice is payable and past its due date on `today`.
    public func isOverdue(on today: BillingDate) -> Bool {
        status.isPayable && dueDate < today
    }
}
