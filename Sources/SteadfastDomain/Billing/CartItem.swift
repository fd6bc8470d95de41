import Foundation

/// A product waiting in a client's cart (or a visitor's: `clientID` is ``noClient``), to be
/// priced when the cart is checked out.
public struct CartItem: Sendable, Hashable, Identifiable {
    /// The `clientID` of an item in a visitor's cart: no account yet.
    public static let noClient = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    public var id: UUID
    public var clientID: UUID
    public var productID: UUID
    public var cycle: BillingCycle
    /// Chosen configurable options (option id → choice id).
    public var selections: [UUID: UUID]
    public var createdAt: Date

    public init(id: UUID, clientID: UUID, productID: UUID, cycle: BillingCycle, selections: [UUID: UUID], createdAt: Date) {
        self.id = id
        self.clientID = clientID
        self.productID = productID
        self.cycle = cycle
        self.selections = selections
        self.createdAt = createdAt
    }
}
