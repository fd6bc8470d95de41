import Foundation

/// Something a provider sells: a hosting plan, a VPS, a licence.
///
/// Prices are per ``BillingCycle`` (a product offers the cycles it has a price for), in the
/// catalogue currency. `hidden` products are left out of the store but can be ordered by a
/// direct link; `retired` products cannot be ordered at all (existing services keep renewing).
/// `stockLimit` caps how many may ever be sold (`nil`: unlimited).
public struct Product: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var groupID: UUID
    public var name: String
    public var description: String
    public var currency: Currency
    public var pricing: [BillingCycle: PricePoint]
    public var options: [ConfigurableOption]
    public var hidden: Bool
    public var retired: Bool
    public var stockLimit: Int?
    public var stockSold: Int
    /// Whether tax applies to this product.
    public var taxable: Bool
    public var createdAt: Date

    public init(
        id: UUID, groupID: UUID, name: String, description: String, currency: Currency, pricing: [BillingCycle: PricePoint],
        options: [ConfigurableOption] = [], hidden: Bool = false, retired: Bool = false, stockLimit: Int? = nil, stockSold: Int = 0,
        taxable: Bool = true, createdAt: Date
    ) {
        self.id = id
        self.groupID = groupID
        self.name = name
        self.description = description
        self.currency = currency
        self.pricing = pricing
        self.options = options
        self.hidden = hidden
        self.retired = retired
        self.stockLimit = stockLimit
        self.stockSold = stockSold
        self.taxable = taxable
        self.createdAt = createdAt
    }

    /// How many more can be sold; `nil` when unlimited.
    public var stockRemaining: Int? { stockLimit.map { max(0, $0 - stockSold) } }

    /// The cycles this product is offered in, in ``BillingCycle/allCases`` order.
    public var cycles: [BillingCycle] { BillingCycle.allCases.filter { pricing[$0] != nil } }

    /// Prices one unit ordered in `cycle` with `selections` (option id → choice id): the
    /// recurring amount, the setup fee, and a description of the chosen options.
    public func quote(cycle: BillingCycle, selections: [UUID: UUID]) throws(BillingError) -> Quote {
        guard !retired else { throw BillingError(.unavailable, "\(name) is no longer sold", field: "product_id") }
        guard let base = pricing[cycle] else {
            throw .invalid("\(name) is not offered \(cycle.label.lowercased())", field: "cycle")
        }
        let unknown = Set(selections.keys).subtracting(options.map(\.id))
        guard unknown.isEmpty else { throw .invalid("an option does not belong to \(name)", field: "options") }
        var recurring = Money(minorUnits: base.recurring, currency: currency)
        var setup = Money(minorUnits: base.setupFee, currency: currency)
        var chosen: [Quote.Selection] = []
        for option in options {
            let choice: OptionChoice
            if let choiceID = selections[option.id] {
                guard let found = option.choices.first(where: { $0.id == choiceID }) else {
                    throw .invalid("that choice does not belong to the option \(option.name)", field: "options")
                }
                choice = found
            } else {
                guard let first = option.choices.first else { continue }
                choice = first
            }
            let price = choice.pricing[cycle] ?? PricePoint(recurring: 0)
            recurring = try recurring + Money(minorUnits: price.recurring, currency: currency)
            setup = try setup + Money(minorUnits: price.setupFee, currency: currency)
            chosen.append(.init(optionID: option.id, choiceID: choice.id, optionName: option.name, choiceName: choice.name))
        }
        return Quote(cycle: cycle, recurring: recurring, setupFee: setup, selections: chosen)
    }

    /// The price of one unit of a product as ordered.
    public struct Quote: Sendable, Hashable {
        /// One chosen option.
        public struct Selection: Sendable, Hashable, Codable {
            public let optionID: UUID
            public let choiceID: UUID
            public let optionName: String
            public let choiceName: String
        }

        public let cycle: BillingCycle
        public let recurring: Money
        public let setupFee: Money
        public let selections: [Selection]

        /// "Memory: 8 GB, Backups: Daily".
        public var optionsDescription: String {
            selections.map { "\($0.optionName): \($0.choiceName)" }.joined(separator: ", ")
        }
    }
}
