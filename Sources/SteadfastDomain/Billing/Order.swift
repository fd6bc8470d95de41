import Foundation

/// A client's order: the products checked out of the cart, and the invoice for them.
public struct Order: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var clientID: UUID
    public var status: OrderStatus
    public var currency: Currency
    public var invoiceID: UUID?
    public var items: [OrderItem]
    public var createdAt: Date
    /// The day the order was placed (billing time zone): the services' registration date.
    public var orderDate: BillingDate

    public init(id: UUID, clientID: UUID, status: OrderStatus, currency: Currency, invoiceID: UUID?, items: [OrderItem], createdAt: Date, orderDate: BillingDate) {
        self.id = id
        self.clientID = clientID
        self.status = status
        self.currency = currency
        self.invoiceID = invoiceID
        self.items = items
        self.createdAt = createdAt
        self.orderDate = orderDate
    }
}
