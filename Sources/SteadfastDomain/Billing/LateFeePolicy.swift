/// The fee added once to an invoice left unpaid too long: nothing, a fixed amount, or a
/// percentage of the invoice total (rounded half away from zero).
public enum LateFeePolicy: Sendable, Hashable {
    case none
    /// A fixed fee in minor units of the invoice's currency.
    case fixed(minorUnits: Int64)
    case percent(TaxRate)

    /// Parses `0` (none), `5.00` (fixed, in the default currency's decimals) or `10%`.
    public init(parsing raw: String, currency: Currency) throws(BillingError) {
        let text = raw.trimmingASCIIWhitespace()
        if text.hasSuffix("%") {
            let rate = try TaxRate(percent: text, field: "late_fee")
            self = rate.millipercent == 0 ? .none : .percent(rate)
            return
        }
        let amount = try Money.parse(text, currency: currency, field: "late_fee")
        guard !amount.isNegative else { throw .invalid("the late fee cannot be negative", field: "late_fee") }
        self = amount.isZero ? .none : .fixed(minorUnits: amount.minorUnits)
    }

    /// The fee for an invoice of `total`; zero for ``none``.
    public func fee(for total: Money) throws(BillingError) -> Money {
        switch self {
        case .none: return .zero(total.currency)
        case .fixed(let minor): return Money(minorUnits: minor, currency: total.currency)
        case .percent(let rate): return try total.scaled(by: rate.millipercent, over: TaxRate.hundredPercent)
        }
    }
}
