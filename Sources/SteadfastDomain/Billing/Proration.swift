/// Charging for part of a billing period, by whole days.
///
/// `prorated = round(amount × days used / days in period)` with the billing rounding rule
/// (``Rounding``: half away from zero). Used to price the rest of a period when a service starts
/// or changes mid-period, or to credit unused days.
public enum Proration {
    /// The share of `amount` for `[from, periodEnd)` within the period `[periodStart, periodEnd)`.
    /// `from` before the period charges the whole amount; on or after its end, nothing.
    public static func amount(_ amount: Money, periodStart: BillingDate, periodEnd: BillingDate, from: BillingDate) throws(BillingError) -> Money {
        let total = periodStart.days(until: periodEnd)
        guard total > 0 else { throw .invalid("the period must end after it starts", field: "period") }
        let remaining = min(max(from.days(until: periodEnd), 0), total)
        return try amount.scaled(by: Int64(remaining), over: Int64(total))
    }
}
