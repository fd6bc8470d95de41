import Foundation
import SteadfastConfig
import SteadfastDomain
import SteadfastWeb
import Testing

@Suite struct BillingConfigurationTests {
    func configuration(_ settings: [String: String]) throws -> NodeConfiguration {
        var sources = ConfigSources()
        for (key, value) in settings { try sources.set(key, to: value, source: "--set") }
        return try NodeConfiguration(sources)
    }

    @Test func defaultsAndParsedRules() throws {
        let defaults = try BillingWeb.settings(try NodeConfiguration.defaults().billing, clusterSecret: "s")
        #expect(defaults.currency == .usd)
        #expect(defaults.invoiceNumberFormat.template == "INV-{YYYY}-{SEQ:6}")
        // The test card gateway marks invoices paid for free: never on by default.
        #expect(defaults.gateways == ["banktransfer"])
        #expect(defaults.reminderDays == [1, 7, 14])
        #expect(defaults.lateFee == .none)
        #expect(!defaults.testCardSecret.isEmpty)
        #expect(defaults.testCardSecret == (try BillingWeb.settings(try NodeConfiguration.defaults().billing, clusterSecret: "s")).testCardSecret)

        let custom = try BillingWeb.settings(try configuration([
            "billing.currency": "eur", "billing.tax_rules": "DE=19:VAT,US-NY=8.875:Sales tax", "billing.tax_mode": "inclusive",
            "billing.late_fee": "10%", "billing.time_zone": "Europe/Berlin", "billing.reminder_days": "3,1", "billing.gateways": "banktransfer",
        ]).billing, clusterSecret: "s")
        #expect(custom.currency == .eur)
        #expect(custom.taxTable.mode == .inclusive)
        #expect(custom.taxTable.rule(country: "US", region: "NY")?.rate.millipercent == 8_875)
        #expect(custom.lateFee == .percent(TaxRate(millipercent: 10_000)))
        #expect(custom.timeZone.identifier == "Europe/Berlin")
        #expect(custom.reminderDays == [1, 3])
        #expect(custom.gateways == ["banktransfer"])
    }

    @Test func theTestCardGatewayNeedsToBeNamedOrDevMode() throws {
        #expect(try configuration([:]).billing.gateways == ["banktransfer"])
        #expect(try configuration(["node.dev": "true"]).billing.gateways == ["banktransfer", "testcard"])
        #expect(try configuration(["billing.gateways": "testcard"]).billing.gateways == ["testcard"])
        // An explicit list wins over --dev: an operator who named the gateways gets exactly those.
        #expect(try configuration(["node.dev": "true", "billing.gateways": "banktransfer"]).billing.gateways == ["banktransfer"])

        #expect(PortalRouter.staffNotices(try configuration([:])).isEmpty)
        let notices = PortalRouter.staffNotices(try configuration(["billing.gateways": "banktransfer,testcard"]))
        #expect(notices.count == 1 && notices[0].contains("testcard"))
    }

    @Test func badValuesNameTheirKey() throws {
        let syntax: [(String, String)] = [
            ("billing.currency", "EURO"), ("billing.time_zone", "Mars/Olympus"), ("billing.tax_mode", "sometimes"),
            ("billing.reminder_days", "1,soon"), ("billing.late_fee_after_days", "0"), ("billing.gateways", "paypal"),
            ("billing.accept_orders_on_payment", "maybe"), ("billing.testcard_secret", "short"),
        ]
        for (key, value) in syntax {
            #expect("\(key)=\(value)") { try configuration([key: value]) } throws: { error in (error as? ConfigError)?.key == key }
        }
        let meaning: [(String, String)] = [
            ("billing.currency", "XYZ"), ("billing.tax_rules", "Germany=19"), ("billing.invoice_number_format", "INV-{YYYY}"),
            ("billing.late_fee", "lots"), ("billing.default_country", "DEU"),
        ]
        for (key, value) in meaning {
            #expect {
                try BillingWeb.settings(try configuration([key: value]).billing, clusterSecret: "s")
            } throws: { error in
                (error as? ConfigError)?.key == key
            }
        }
    }
}
