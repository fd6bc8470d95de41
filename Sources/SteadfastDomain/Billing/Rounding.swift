/// The one rounding rule of Steadfast billing: **round half away from zero** ("commercial
/// rounding", what EU VAT rules and most accountants expect), applied to each invoice line
/// separately and then summed — never to a total.
///
/// `2.5 → 3`, `2.4 → 2`, `-2.5 → -3`. All divisions of money (tax, proration, percentage fees)
/// go through ``divide(_:by:)`` on 128-bit intermediates, so no product can overflow first.
public enum Rounding {
    /// `numerator / denominator` rounded half away from zero. `denominator` must not be zero.
    public static func divide(_ numerator: Int128, by denominator: Int128) -> Int128 {
        precondition(denominator != 0, "division by zero")
        let negative = (numerator < 0) != (denominator < 0)
        let n = numerator.magnitude
        let d = denominator.magnitude
        var quotient = n / d
        let remainder = n % d
        if remainder * 2 >= d { quotient += 1 }
        return negative ? -Int128(quotient) : Int128(quotient)
    }
}
