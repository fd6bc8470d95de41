import Foundation

/// One product in an ``Order``, priced when the order was placed.
public struct OrderItem: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var productID: UUID
    public var description: String
    public var cycle: BillingCycle
    /// The chosen configurable options (option id → choice id).
    public var selections: [UUID: UUID]
    /// Price of each period, options included.
    public var recurring: Money
    public var setupFee: Money
    /// The service created from this item when the order is accepted.
    public var serviceID: UUID?

    public init(id: UUID, productID: UUID, description: String, cycle: BillingCycle, selections: [UUID: UUID], recurring: Money, setupFee: Money, serviceID: UUID?) {
        self.id = id
        self.productID = productID
        self.description = description
        self.cycle = cycle
        self.selections = selections
        self.recurring = recurring
        self.setupFee = setupFee
        self.serviceID = serviceID
    }
}
