import SteadfastDomain
import Testing

@Suite struct MoneyTests {
    let usd = Currency.usd

    @Test func currenciesKnowTheirMinorUnits() throws {
        #expect(try Currency(code: "eur").code == "EUR")
        #expect(try Currency(code: "JPY").minorUnitsPerMajor == 1)
        #expect(try Currency(code: "KWD").minorUnitsPerMajor == 1000)
        #expect(throws: BillingError.self) { try Currency(code: "EURO") }
    }

    @Test(arguments: [
        ("12.34", "USD", Int64(1234)), ("12", "USD", 1200), ("12.5", "USD", 1250), ("-0.05", "USD", -5), ("0", "USD", 0),
        ("1500", "JPY", 1500), ("1.234", "KWD", 1234), (" 7.10 ", "EUR", 710),
    ])
    func parsesDecimalTextExactly(text: String, code: String, minor: Int64) throws {
        #expect(try Money.parse(text, currency: Currency(code: code)).minorUnits == minor)
    }

    @Test(arguments: ["12.345", "1e3", "", "-", "1.", ".5", "1,000", "12.3.4", "abc", "99999999999999999999", "1500.5"])
    func refusesAnythingElse(text: String) {
        let currency = text == "1500.5" ? Currency.jpy : usd
        #expect(throws: BillingError.self) { try Money.parse(text, currency: currency) }
    }

    @Test func formats() {
        #expect(Money(minorUnits: 123_456_789, currency: usd).decimalString == "1234567.89")
        #expect(Money(minorUnits: 123_456_789, currency: usd).formatted == "USD 1,234,567.89")
        #expect(Money(minorUnits: -5, currency: usd).decimalString == "-0.05")
        #expect(Money(minorUnits: -5, currency: usd).formatted == "-USD 0.05")
        #expect(Money(minorUnits: 1500, currency: .jpy).formatted == "JPY 1,500")
        #expect(Money(minorUnits: 1, currency: .kwd).decimalString == "0.001")
        #expect(Money(minorUnits: 0, currency: usd).formatted == "USD 0.00")
        #expect(Money(minorUnits: 99_999, currency: usd).formatted == "USD 999.99")
        #expect(Money(minorUnits: 100_000, currency: usd).formatted == "USD 1,000.00")
        #expect(Money(minorUnits: -123_456, currency: usd).formatted == "-USD 1,234.56")
        #expect(Money(minorUnits: 1_234_567, currency: .kwd).formatted == "KWD 1,234.567")
        #expect(Money(minorUnits: 0, currency: .jpy).formatted == "JPY 0")
        #expect(Money(minorUnits: 1_234_567, currency: .jpy).formatted == "JPY 1,234,567")
        #expect(Money(minorUnits: .min, currency: usd).formatted == "-USD 92,233,720,368,547,758.08")
    }

    /// `formatted` agrees with grouping `decimalString` by hand, for many amounts and currencies.
    @Test func formattingGroupsTheDecimalText() {
        func reference(_ money: Money) -> String {
            var text = money.decimalString
            let negative = text.hasPrefix("-")
            if negative { text.removeFirst() }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            var integer = String(parts[0]), grouped = ""
            while integer.count > 3 {
                grouped = "," + integer.suffix(3) + grouped
                integer.removeLast(3)
            }
            grouped = integer + grouped
            return (negative ? "-" : "") + money.currency.code + " " + (parts.count > 1 ? grouped + "." + parts[1] : grouped)
        }
        var generator = SystemRandomNumberGenerator()
        for currency in [usd, Currency.jpy, Currency.kwd, Currency.eur] {
            for _ in 0..<500 {
                let magnitude = Int64.random(in: 0...Int64(10).power(Int.random(in: 0...18, using: &generator)), using: &generator)
                let money = Money(minorUnits: Bool.random(using: &generator) ? magnitude : -magnitude, currency: currency)
                #expect(money.formatted == reference(money))
            }
        }
    }

    @Test func arithmeticRefusesMixedCurrenciesAndOverflow() throws {
        let a = Money(minorUnits: 100, currency: usd)
        #expect(try (a + a).minorUnits == 200)
        #expect(try (a - Money(minorUnits: 250, currency: usd)).minorUnits == -150)
        #expect(throws: BillingError(.currencyMismatch, "cannot combine USD with EUR", field: "currency")) {
            try a + Money(minorUnits: 1, currency: .eur)
        }
        let big = Money(minorUnits: .max, currency: usd)
        #expect { try big + Money(minorUnits: 1, currency: usd) } throws: { ($0 as? BillingError)?.kind == .overflow }
        #expect { try Money(minorUnits: .min, currency: usd) - Money(minorUnits: 1, currency: usd) } throws: { ($0 as? BillingError)?.kind == .overflow }
        #expect { try big.multiplied(by: 2) } throws: { ($0 as? BillingError)?.kind == .overflow }
        // Scaling uses 128-bit intermediates: no overflow before the division.
        #expect(try big.scaled(by: 1, over: 2).minorUnits == Int64.max / 2 + 1)
        #expect(try Money.sum([a, a, a], currency: usd).minorUnits == 300)
    }
}

@Suite struct RoundingTests {
    /// The one rule: half away from zero.
    @Test(arguments: [
        (Int128(25), Int128(10), Int128(3)), (24, 10, 2), (26, 10, 3), (-25, 10, -3), (-24, 10, -2), (15, 10, 2), (5, 10, 1),
        (4, 10, 0), (1, 3, 0), (2, 3, 1), (-2, 3, -1), (0, 7, 0), (100, 1, 100), (25, -10, -3),
    ])
    func halfAwayFromZero(numerator: Int128, denominator: Int128, expected: Int128) {
        #expect(Rounding.divide(numerator, by: denominator) == expected)
    }
}

private extension Int64 {
    func power(_ exponent: Int) -> Int64 { (0..<exponent).reduce(1) { value, _ in value * self } }
}
