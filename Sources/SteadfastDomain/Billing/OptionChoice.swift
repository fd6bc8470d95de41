import Foundation

/// One choice of a ``ConfigurableOption`` ("4 GB", "8 GB") with its own prices per cycle.
public struct OptionChoice: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var name: String
    public var pricing: [BillingCycle: PricePoint]

    public init(id: UUID, name: String, pricing: [BillingCycle: PricePoint]) {
        self.id = id
        self.name = name
        self.pricing = pricing
    }
}
