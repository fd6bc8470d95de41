/// An ISO 4217 currency with the number of decimal places of its minor unit (2 for USD and EUR,
/// 0 for JPY, 3 for KWD). Only currencies in ``known`` are accepted, so a typo such as `EURO`
/// is refused instead of silently creating a currency.
public struct Currency: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The three-letter upper-case ISO 4217 code.
    public let code: String
    /// Decimal places of the minor unit: 1 major unit = 10^exponent minor units.
    public let minorUnitExponent: Int

    /// Currencies a hosting provider is likely to bill in, with their minor-unit exponent.
    public static let known: [String: Int] = [
        "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2, "DKK": 2,
        "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2, "INR": 2, "BRL": 2, "MXN": 2, "ZAR": 2, "SGD": 2,
        "HKD": 2, "CNY": 2, "TRY": 2, "ILS": 2, "AED": 2, "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
        "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
    ]

    public static let usd = Currency(checked: "USD", 2)
    public static let eur = Currency(checked: "EUR", 2)
    public static let jpy = Currency(checked: "JPY", 0)
    public static let kwd = Currency(checked: "KWD", 3)

    private init(checked code: String, _ exponent: Int) {
        self.code = code
        self.minorUnitExponent = exponent
    }

    /// The currency for an ISO code (case-insensitive); throws for unknown codes.
    public init(code raw: String) throws(BillingError) {
        let code = raw.uppercased()
        guard let exponent = Self.known[code] else {
            throw .invalid("'\(raw)' is not a supported ISO 4217 currency code", field: "currency")
        }
        self.init(checked: code, exponent)
    }

    /// Minor units per major unit (100 for USD, 1 for JPY, 1000 for KWD).
    public var minorUnitsPerMajor: Int64 {
        var value: Int64 = 1
        for _ in 0..<minorUnitExponent { value *= 10 }
        return value
    }

    public var description: String { code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(code: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
