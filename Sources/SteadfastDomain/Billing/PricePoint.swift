/// What one billing cycle of a product (or of a configurable option's choice) costs: the
/// recurring price and a one-off setup fee, both in minor units of the catalogue currency.
public struct PricePoint: Sendable, Hashable, Codable {
    public var recurring: Int64
    public var setupFee: Int64

    public init(recurring: Int64, setupFee: Int64 = 0) {
        self.recurring = recurring
        self.setupFee = setupFee
    }

    /// Checks both amounts are zero or positive.
    public func validated(field: String = "pricing") throws(BillingError) -> PricePoint {
        guard recurring >= 0, setupFee >= 0 else { throw .invalid("prices cannot be negative", field: field) }
        guard recurring <= Money.maximumInputMinorUnits, setupFee <= Money.maximumInputMinorUnits else {
            throw BillingError(.overflow, "prices are limited to \(Money.maximumInputMinorUnits) minor units", field: field)
        }
        return self
    }
}
