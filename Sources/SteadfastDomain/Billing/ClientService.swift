import Foundation

/// A product a client has: created when an order is accepted, renewed every cycle.
///
/// `nextDueDate` is the first day of the next unpaid period; renewal invoices are generated
/// for the period starting there, and paying one moves `nextDueDate` one cycle on (anchored on
/// `anchorDay`, the registration day, so month-end services stay on month ends).
public struct ClientService: Sendable, Hashable, Identifiable {
    /// Why a service is suspended: decides whether a payment lifts the suspension.
    public enum SuspensionReason: String, Sendable, Codable, Hashable {
        /// Suspended by the overdue rule; lifted automatically when the overdue invoices are paid.
        case overdue
        /// Suspended by staff; only staff lift it.
        case staff
    }

    public var id: UUID
    public var clientID: UUID
    public var orderID: UUID?
    public var productID: UUID
    public var description: String
    public var cycle: BillingCycle
    public var status: ServiceStatus
    public var recurring: Money
    public var anchorDay: Int
    public var registrationDate: BillingDate
    /// `nil` for one-time services.
    public var nextDueDate: BillingDate?
    public var suspensionReason: SuspensionReason?
    public var createdAt: Date

    public init(
        id: UUID, clientID: UUID, orderID: UUID?, productID: UUID, description: String, cycle: BillingCycle, status: ServiceStatus,
        recurring: Money, anchorDay: Int, registrationDate: BillingDate, nextDueDate: BillingDate?, suspensionReason: SuspensionReason?, createdAt: Date
    ) {
        self.id = id
        self.clientID = clientID
        self.orderID = orderID
        self.productID = productID
        self.description = description
        self.cycle = cycle
        self.status = status
        self.recurring = recurring
        self.anchorDay = anchorDay
        self.registrationDate = registrationDate
        self.nextDueDate = nextDueDate
        self.suspensionReason = suspensionReason
        self.createdAt = createdAt
    }
}
