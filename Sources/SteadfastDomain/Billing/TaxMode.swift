/// Whether catalogue prices are quoted before tax or with tax included.
public enum TaxMode: String, Sendable, Codable, CaseIterable {
    /// Prices are net: tax is added on top (`gross = net + round(net × rate)`); B2B and US style.
    case exclusive
    /// Prices include tax: the tax is the part of the price that is tax
    /// (`tax = round(gross × rate / (1 + rate))`, `net = gross − tax`); EU consumer style.
    case inclusive
}
