import SteadfastDomain
import Testing

@Suite struct TaxTests {
    let usd = Currency.usd
    let eur = Currency.eur

    @Test func ratesParseToThousandthsOfAPercent() throws {
        #expect(try TaxRate(percent: "19").millipercent == 19_000)
        #expect(try TaxRate(percent: "8.875%").millipercent == 8_875)
        #expect(try TaxRate(percent: "7.7").millipercent == 7_700)
        #expect(try TaxRate(percent: "0").millipercent == 0)
        #expect(try TaxRate(percent: "100").millipercent == 100_000)
        #expect(TaxRate(millipercent: 8_875).percentString == "8.875%")
        #expect(TaxRate(millipercent: 19_000).percentString == "19%")
        #expect(TaxRate(millipercent: 7_700).percentString == "7.7%")
        for bad in ["", "abc", "101", "19.0001", "-5", "1,5", "19."] {
            #expect(throws: BillingError.self) { try TaxRate(percent: bad) }
        }
    }

    /// Exclusive: tax = round(net × rate) per line, half away from zero.
    @Test(arguments: [
        (Int64(1000), Int64(19_000), Int64(190), Int64(1190)),
        (999, 19_000, 190, 1189), // 189.81 → 190
        (1050, 8_875, 93, 1143), // 93.1875 → 93
        (2000, 8_875, 178, 2178), // 177.5 → 178 (half up)
        (1, 19_000, 0, 1), // 0.19 → 0
        (3, 19_000, 1, 4), // 0.57 → 1
        (10, 5_000, 1, 11), // 0.5 → 1 (half away from zero)
        (0, 19_000, 0, 0),
        (1234, 0, 0, 1234),
    ])
    func exclusiveTax(net: Int64, rate: Int64, tax: Int64, gross: Int64) throws {
        let line = try LineAmounts.compute(price: Money(minorUnits: net, currency: eur), rate: TaxRate(millipercent: rate), mode: .exclusive)
        #expect(line.net.minorUnits == net)
        #expect(line.tax.minorUnits == tax)
        #expect(line.gross.minorUnits == gross)
    }

    /// Inclusive: tax = round(gross × rate / (1 + rate)), net = gross − tax.
    @Test(arguments: [
        (Int64(1190), Int64(19_000), Int64(190), Int64(1000)),
        (1000, 19_000, 160, 840), // 159.66 → 160
        (999, 20_000, 167, 832), // 166.5 → 167 (half up)
        (100, 8_875, 8, 92), // 8.15 → 8
        (1, 19_000, 0, 1),
        (500, 0, 0, 500),
    ])
    func inclusiveTax(gross: Int64, rate: Int64, tax: Int64, net: Int64) throws {
        let line = try LineAmounts.compute(price: Money(minorUnits: gross, currency: eur), rate: TaxRate(millipercent: rate), mode: .inclusive)
        #expect(line.gross.minorUnits == gross)
        #expect(line.tax.minorUnits == tax)
        #expect(line.net.minorUnits == net)
        #expect(line.net.minorUnits + line.tax.minorUnits == line.gross.minorUnits)
    }

    @Test func roundingIsPerLineThenSummed() throws {
        // Three lines of 0.10 at 25%: each line's tax 0.025 → 0.03, invoice tax 0.09 (not round(0.075) = 0.08).
        let calculator = InvoiceCalculator(rule: TaxRule(country: "XX", name: "VAT", rate: TaxRate(millipercent: 25_000)), mode: .exclusive)
        let drafts = (0..<3).map { _ in InvoiceLineDraft(kind: .custom, description: "x", price: Money(minorUnits: 10, currency: eur)) }
        let lines = try calculator.lines(drafts)
        let totals = try InvoiceCalculator.totals(lines, currency: eur)
        #expect(lines.map(\.amounts.tax.minorUnits) == [3, 3, 3])
        #expect(totals.subtotal.minorUnits == 30)
        #expect(totals.tax.minorUnits == 9)
        #expect(totals.total.minorUnits == 39)
        #expect(lines.map(\.position) == [1, 2, 3])
    }

    @Test func nonTaxableLinesPayNoTax() throws {
        let calculator = InvoiceCalculator(rule: TaxRule(country: "DE", name: "VAT", rate: TaxRate(millipercent: 19_000)), mode: .exclusive)
        let lines = try calculator.lines([InvoiceLineDraft(kind: .lateFee, description: "fee", price: Money(minorUnits: 500, currency: eur), taxable: false)])
        #expect(lines[0].amounts.tax.isZero && lines[0].amounts.gross.minorUnits == 500)
    }

    @Test func rulesByCountryAndRegion() throws {
        let table = TaxTable(rules: [
            try TaxRule(parsing: "DE=19:VAT"), try TaxRule(parsing: "US-NY=8.875:Sales tax"), try TaxRule(parsing: "US=0:None"),
            try TaxRule(parsing: "ca-qc=14.975"),
        ], mode: .exclusive)
        #expect(table.rule(country: "de", region: nil)?.rate.millipercent == 19_000)
        #expect(table.rule(country: "DE", region: "BY")?.name == "VAT") // falls back to the country rule
        #expect(table.rule(country: "US", region: "NY")?.rate.millipercent == 8_875)
        #expect(table.rule(country: "US", region: "ny")?.name == "Sales tax")
        #expect(table.rule(country: "US", region: "TX")?.name == "None")
        #expect(table.rule(country: "CA", region: "QC")?.name == "Tax")
        #expect(table.rule(country: "CA", region: "ON") == nil)
        #expect(table.rule(country: "FR", region: nil) == nil)
        #expect(table.rule(country: nil, region: nil) == nil)
        #expect(table.rule(country: "DE", region: nil, exempt: true) == nil)
        for bad in ["DE", "DEU=19", "DE=abc", "DE=19:", "US-=5", "D1=5"] {
            #expect(throws: BillingError.self) { try TaxRule(parsing: bad) }
        }
    }

    @Test func lateFeePolicies() throws {
        #expect(try LateFeePolicy(parsing: "0", currency: usd) == .none)
        #expect(try LateFeePolicy(parsing: "0%", currency: usd) == .none)
        #expect(try LateFeePolicy(parsing: "5.00", currency: usd).fee(for: Money(minorUnits: 1, currency: usd)).minorUnits == 500)
        #expect(try LateFeePolicy(parsing: "10%", currency: usd).fee(for: Money(minorUnits: 1005, currency: usd)).minorUnits == 101) // 100.5 → 101
        #expect(throws: BillingError.self) { try LateFeePolicy(parsing: "-1", currency: usd) }
        #expect(throws: BillingError.self) { try LateFeePolicy(parsing: "lots", currency: usd) }
    }
}
