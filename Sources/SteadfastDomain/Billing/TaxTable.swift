/// The tax rules a provider charges, and which one applies to a client.
///
/// Look-up: a rule for the client's country **and** region wins; otherwise the country-wide
/// rule; otherwise no tax. Tax-exempt clients (e.g. EU B2B reverse charge) pay no tax.
public struct TaxTable: Sendable, Hashable {
    public let rules: [TaxRule]
    public let mode: TaxMode

    public init(rules: [TaxRule], mode: TaxMode) {
        self.rules = rules
        self.mode = mode
    }

    public static let none = TaxTable(rules: [], mode: .exclusive)

    /// The rule for a client in `country` (and `region`), or `nil` when none applies.
    public func rule(country: String?, region: String?, exempt: Bool = false) -> TaxRule? {
        guard !exempt, let country = country?.uppercased(), !country.isEmpty else { return nil }
        let region = region?.uppercased()
        if let region, !region.isEmpty, let exact = rules.first(where: { $0.country == country && $0.region == region }) {
            return exact
        }
        return rules.first { $0.country == country && $0.region == nil }
    }
}
