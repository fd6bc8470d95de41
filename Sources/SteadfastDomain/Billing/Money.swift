/// An amount of money: a whole number of minor units (cents) in one ``Currency``.
///
/// There is no floating point anywhere: amounts are `Int64` minor units, parsed from and
/// formatted to decimal text digit by digit. Arithmetic refuses to mix currencies
/// (``BillingErrorKind/currencyMismatch``) and refuses to overflow (``BillingErrorKind/overflow``).
public struct Money: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The amount in minor units (cents for USD); negative for credits and refunds.
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    public var isZero: Bool { minorUnits == 0 }
    public var isNegative: Bool { minorUnits < 0 }
    public var isPositive: Bool { minorUnits > 0 }

    /// `self + other`, same currency only, without overflow.
    public func adding(_ other: Money) throws(BillingError) -> Money {
        try requireSameCurrency(other)
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw BillingError(.overflow, "amount is too large") }
        return Money(minorUnits: sum, currency: currency)
    }

    /// `self - other`, same currency only, without overflow.
    public func subtracting(_ other: Money) throws(BillingError) -> Money {
        try requireSameCurrency(other)
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw BillingError(.overflow, "amount is too large") }
        return Money(minorUnits: difference, currency: currency)
    }

    /// `self × factor` (a quantity), without overflow.
    public func multiplied(by factor: Int64) throws(BillingError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw BillingError(.overflow, "amount is too large") }
        return Money(minorUnits: product, currency: currency)
    }

    /// `self × numerator / denominator`, rounded by ``Rounding/divide(_:by:)`` (half away from zero).
    public func scaled(by numerator: Int64, over denominator: Int64) throws(BillingError) -> Money {
        guard denominator != 0 else { throw BillingError.invalid("division by zero") }
        let exact = Int128(minorUnits) * Int128(numerator)
        let rounded = Rounding.divide(exact, by: Int128(denominator))
        guard let value = Int64(exactly: rounded) else { throw BillingError(.overflow, "amount is too large") }
        return Money(minorUnits: value, currency: currency)
    }

    public var negated: Money { Money(minorUnits: -minorUnits, currency: currency) }

    /// The largest amount, in minor units, that any input may carry: 10^15 (ten trillion for a
    /// currency with cents). Far above any real invoice, and far enough below `Int64.max`
    /// (about 9.2 × 10^18) that sums of thousands of such amounts (balances, credit, totals
    /// with tax and fees, database `SUM`s) can never overflow.
    public static let maximumInputMinorUnits: Int64 = 1_000_000_000_000_000

    /// `self` if its size is within ``maximumInputMinorUnits``; otherwise an error naming `field`.
    public func checkedInput(field: String = "amount") throws(BillingError) -> Money {
        guard minorUnits.magnitude <= UInt64(Self.maximumInputMinorUnits) else {
            throw BillingError(.overflow, "amounts are limited to \(Money(minorUnits: Self.maximumInputMinorUnits, currency: currency).formatted)", field: field)
        }
        return self
    }

    public static func + (lhs: Money, rhs: Money) throws(BillingError) -> Money { try lhs.adding(rhs) }
    public static func - (lhs: Money, rhs: Money) throws(BillingError) -> Money { try lhs.subtracting(rhs) }

    /// Compares two amounts of the same currency.
    public func isLess(than other: Money) throws(BillingError) -> Bool {
        try requireSameCurrency(other)
        return minorUnits < other.minorUnits
    }

    /// The smaller of two amounts of the same currency.
    public static func min(_ a: Money, _ b: Money) throws(BillingError) -> Money {
        try a.isLess(than: b) ? a : b
    }

    /// Sums amounts; `currency` is the result's currency when the list is empty.
    public static func sum(_ amounts: [Money], currency: Currency) throws(BillingError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts { total = try total.adding(amount) }
        return total
    }

    private func requireSameCurrency(_ other: Money) throws(BillingError) {
        guard currency == other.currency else {
            throw BillingError(.currencyMismatch, "cannot combine \(currency.code) with \(other.currency.code)", field: "currency")
        }
    }

    // MARK: Decimal text

    /// The amount as plain decimal text with exactly the currency's decimals: `1234.50`, `-0.05`, `120` (JPY).
    public var decimalString: String {
        let exponent = currency.minorUnitExponent
        let magnitude = minorUnits.magnitude
        var digits = String(magnitude)
        guard exponent > 0 else { return (minorUnits < 0 ? "-" : "") + digits }
        if digits.count <= exponent { digits = String(repeating: "0", count: exponent - digits.count + 1) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -exponent)
        return (minorUnits < 0 ? "-" : "") + digits[..<split] + "." + digits[split...]
    }

    /// For people: `USD 1,234.50`, `-EUR 0.05`. (Built from the digits directly: every row of
    /// every invoice page shows two of these.)
    public var formatted: String {
        let exponent = currency.minorUnitExponent
        var digits = Array(String(minorUnits.magnitude).utf8)
        if exponent > 0, digits.count <= exponent {
            digits = Array(repeating: UInt8(ascii: "0"), count: exponent - digits.count + 1) + digits
        }
        let integerCount = digits.count - exponent
        var text: [UInt8] = []
        text.reserveCapacity(digits.count + digits.count / 3 + 6)
        if minorUnits < 0 { text.append(UInt8(ascii: "-")) }
        text.append(contentsOf: currency.code.utf8)
        text.append(UInt8(ascii: " "))
        for (index, digit) in digits[..<integerCount].enumerated() {
            if index > 0, (integerCount - index) % 3 == 0 { text.append(UInt8(ascii: ",")) }
            text.append(digit)
        }
        if exponent > 0 {
            text.append(UInt8(ascii: "."))
            text.append(contentsOf: digits[integerCount...])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { formatted }

    /// Parses decimal text such as `12`, `12.5`, `12.50`, `-3.01` exactly (no floating point).
    /// More decimals than the currency has, or anything but digits, one `.` and a leading `-`,
    /// is an error naming `field`.
    public static func parse(_ raw: String, currency: Currency, field: String = "amount") throws(BillingError) -> Money {
        var text = Substring(raw.trimmingASCIIWhitespace())
        var negative = false
        if text.first == "-" {
            negative = true
            text = text.dropFirst()
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, parts.count <= 2, let integerPart = parts.first,
              !integerPart.isEmpty, integerPart.allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            throw .invalid("'\(raw)' is not an amount like 12.34", field: field)
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else {
            throw .invalid("'\(raw)' is not an amount like 12.34", field: field)
        }
        guard fraction.count <= currency.minorUnitExponent else {
            throw .invalid("\(currency.code) amounts have at most \(currency.minorUnitExponent) decimal places", field: field)
        }
        let padded = String(fraction) + String(repeating: "0", count: currency.minorUnitExponent - fraction.count)
        guard let whole = Int64(integerPart), let minor = Int64(padded.isEmpty ? "0" : padded) else {
            throw BillingError(.overflow, "amount is too large", field: field)
        }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: currency.minorUnitsPerMajor)
        let (total, o2) = scaled.addingReportingOverflow(minor)
        guard !o1, !o2 else { throw BillingError(.overflow, "amount is too large", field: field) }
        return try Money(minorUnits: negative ? -total : total, currency: currency).checkedInput(field: field)
    }
}
