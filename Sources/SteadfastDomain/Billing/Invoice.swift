import Foundation

/// A bill to a client: lines, tax, totals, due date, status and what has been paid.
///
/// `amountPaid` is the net of every payment (credit applied included) minus refunds, and
/// `amountRefunded` the refunds; ``balanceDue`` is what is still owed. `number` is set when the
/// invoice is issued, and so are `seller` and `buyer`: who sold to whom, copied then, so a later
/// change of address or name never rewrites an issued invoice (invoices issued before the copy
/// existed have neither; their pages fall back to the current details).
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
    /// Money given back (refunds to the payer and credit notes to the credit balance).
    public var amountRefunded: Money
    /// The seller's and the buyer's identity as they were when the invoice was issued.
    public var seller: InvoiceParty?
    public var buyer: InvoiceParty?
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
        orderID: UUID?, lines: [InvoiceLine], createdAt: Date, amountRefunded: Money? = nil, seller: InvoiceParty? = nil, buyer: InvoiceParty? = nil
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
        self.amountRefunded = amountRefunded ?? .zero(currency)
        self.seller = seller
        self.buyer = buyer
    }

    /// Money received for the invoice: `amountPaid` plus what was given back since.
    public var amountReceived: Money {
        Money(minorUnits: amountPaid.minorUnits &+ amountRefunded.minorUnits, currency: currency)
    }

    /// What is still owed: **total − received + refunded** (`total − amountPaid`), never negative,
    /// in every state but the void ones — a cancelled or fully refunded invoice owes nothing.
    /// A paid invoice owes nothing because it is only `paid` while that sum is zero: a partial
    /// refund reopens it (``InvoiceStatus/Event/reopen``).
    public var balanceDue: Money {
        switch status {
        case .cancelled, .refunded: .zero(currency)
        case .draft, .unpaid, .paid, .collections: Money(minorUnits: max(0, total.minorUnits - amountPaid.minorUnits), currency: currency)
        }
    }

    /// Whether the invoice is payable and past its due date on `today`.
    public func isOverdue(on today: BillingDate) -> Bool {
        status.isPayable && dueDate < today
    }
}
