import Foundation
import SteadfastConfig
import Testing

/// `billing.stripe.*`: stripe in `billing.gateways` needs its secrets; errors name the key and
/// never show a secret.
@Suite struct StripeConfigurationTests {
    func configuration(_ settings: [String: String]) throws -> NodeConfiguration {
        var sources = ConfigSources()
        for (key, value) in settings { try sources.set(key, to: value, source: "--set") }
        return try NodeConfiguration(sources)
    }

    func failure(_ settings: [String: String]) -> ConfigError? {
        do { _ = try configuration(settings); return nil } catch let error as ConfigError { return error } catch { return nil }
    }

    @Test func stripeNeedsASecretKeyAndAWebhookSecret() throws {
        #expect(failure(["billing.gateways": "banktransfer,stripe"])?.key == "billing.stripe.secret_key")
        #expect(failure(["billing.gateways": "stripe", "billing.stripe.secret_key": "sk_test_1"])?.key == "billing.stripe.webhook_secret")
        let bad = failure(["billing.gateways": "stripe", "billing.stripe.secret_key": "hunter2-not-a-key", "billing.stripe.webhook_secret": "whsec_0123456789abcdef"])
        #expect(bad?.key == "billing.stripe.secret_key")
        #expect(!(bad.map { "\($0)" } ?? "").contains("hunter2"), "the error must not print the secret")
        #expect(failure(["billing.gateways": "stripe", "billing.stripe.secret_key": "sk_test_1", "billing.stripe.webhook_secret": "whsec_0123456789abcdef", "billing.stripe.api_base": "http://api.example.com"])?.key == "billing.stripe.api_base")
        #expect(failure(["billing.gateways": "paypal"])?.key == "billing.gateways")

        let ok = try configuration([
            "billing.gateways": "banktransfer,stripe", "billing.stripe.secret_key": "sk_test_1", "billing.stripe.webhook_secret": "whsec_0123456789abcdef",
            "billing.stripe.api_base": "http://127.0.0.1:4242/", "billing.stripe.publishable_key": "pk_test_1",
        ]).billing
        let stripe = try #require(ok.stripe)
        #expect(stripe.apiBase == "http://127.0.0.1:4242")
        #expect(stripe.secretKey == "sk_test_1" && stripe.webhookSecret == "whsec_0123456789abcdef" && stripe.publishableKey == "pk_test_1")
        #expect(!"\(stripe)".contains("sk_test_1") && !"\(stripe)".contains("whsec_"))
        // Not enabled: the keys are not needed and not read.
        #expect(try configuration([:]).billing.stripe == nil)
        #expect(try configuration([:]).billing.stripe.map { $0.apiBase } == nil)
    }

    @Test func theSecretKeyMayComeFromAFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stripe-key-\(UUID().uuidString)")
        try "  sk_test_fromfile\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let billing = try configuration([
            "billing.gateways": "stripe", "billing.stripe.secret_key_file": file.path, "billing.stripe.webhook_secret": "whsec_0123456789abcdef",
        ]).billing
        #expect(billing.stripe?.secretKey == "sk_test_fromfile")
        #expect(billing.stripe?.apiBase == "https://api.stripe.com")
        #expect(failure(["billing.gateways": "stripe", "billing.stripe.secret_key_file": "/nonexistent/key", "billing.stripe.webhook_secret": "whsec_0123456789abcdef"])?.key == "billing.stripe.secret_key_file")
    }
}
