/// A tax rate as a whole number of thousandths of a percent: 19% is `19_000`, New York's
/// 8.875% is `8_875`. Exact for every real-world rate, and no floating point.
public struct TaxRate: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// Thousandths of a percent (1 = 0.001%).
    public let millipercent: Int64

    /// 100% in ``millipercent``.
    public static let hundredPercent: Int64 = 100_000
    public static let zero = TaxRate(millipercent: 0)

    public init(millipercent: Int64) {
        self.millipercent = millipercent
    }

    /// Parses `19`, `19%`, `8.875` (percent, at most 3 decimals, 0–100).
    public init(percent raw: String, field: String = "tax_rate") throws(BillingError) {
        var text = raw.trimmingASCIIWhitespace()
        if text.hasSuffix("%") { text.removeLast() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, parts.count <= 2, !parts[0].isEmpty,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              parts.count == 1 || (!parts[1].isEmpty && parts[1].count <= 3),
              let whole = Int64(parts[0]), whole <= 100
        else {
            throw .invalid("'\(raw)' is not a tax rate like 19 or 8.875 (percent, up to 3 decimals)", field: field)
        }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        let thousandths = Int64(fraction + String(repeating: "0", count: 3 - fraction.count)) ?? 0
        let value = whole * 1000 + thousandths
        guard value <= Self.hundredPercent else { throw .invalid("a tax rate cannot exceed 100%", field: field) }
        self.millipercent = value
    }

    /// `19%`, `8.875%`.
    public var percentString: String {
        let whole = millipercent / 1000
        var fraction = String(millipercent % 1000)
        guard millipercent % 1000 != 0 else { return "\(whole)%" }
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)%"
    }

    public var description: String { percentString }

    public static func < (lhs: TaxRate, rhs: TaxRate) -> Bool { lhs.millipercent < rhs.millipercent }
}
