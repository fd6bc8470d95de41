/// One invoice line's net, tax and gross, computed from its price under a ``TaxMode``.
///
/// This is where the rounding rule is applied: once per line (``Rounding``, half away from
/// zero), so an invoice's tax is the sum of its lines' rounded taxes.
public struct LineAmounts: Sendable, Hashable, Codable {
    public let net: Money
    public let tax: Money
    public let gross: Money

    public init(net: Money, tax: Money, gross: Money) {
        self.net = net
        self.tax = tax
        self.gross = gross
    }

    /// Splits `price` (net when `mode` is exclusive, gross when inclusive) at `rate`.
    public static func compute(price: Money, rate: TaxRate?, mode: TaxMode) throws(BillingError) -> LineAmounts {
        guard let rate, rate.millipercent > 0 else {
            return LineAmounts(net: price, tax: .zero(price.currency), gross: price)
        }
        switch mode {
        case .exclusive:
            let tax = try price.scaled(by: rate.millipercent, over: TaxRate.hundredPercent)
            return LineAmounts(net: price, tax: tax, gross: try price + tax)
        case .inclusive:
            let tax = try price.scaled(by: rate.millipercent, over: TaxRate.hundredPercent + rate.millipercent)
            return LineAmounts(net: try price - tax, tax: tax, gross: price)
        }
    }
}
