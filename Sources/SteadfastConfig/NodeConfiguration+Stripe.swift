import Foundation

extension ConfigKey {
    public static let billingStripeAPIBase = ConfigKey("billing.stripe.api_base", default: "https://api.stripe.com", "Base URL of Stripe's API (tests point it at localstripe on 127.0.0.1); https unless the host is a loopback address.")
    public static let billingStripeSecretKey = ConfigKey("billing.stripe.secret_key", default: "", "Stripe secret key (sk_live_... or sk_test_...); required when billing.gateways includes stripe, unless billing.stripe.secret_key_file is set. Never printed; prefer the file or the environment (STEADFAST_BILLING_STRIPE_SECRET_KEY).")
    public static let billingStripeSecretKeyFile = ConfigKey("billing.stripe.secret_key_file", default: "", "A file holding the Stripe secret key (surrounding whitespace ignored); used when billing.stripe.secret_key is empty.")
    public static let billingStripePublishableKey = ConfigKey("billing.stripe.publishable_key", default: "", "Stripe publishable key (pk_...) handed to Stripe's card element on the payment page.")
    public static let billingStripeWebhookSecret = ConfigKey("billing.stripe.webhook_secret", default: "", "Signing secret (whsec_...) of the webhook endpoint /api/v1/gateways/stripe/webhook; required with stripe in billing.gateways. Never printed.")

    /// The `billing.stripe.*` keys, in documentation order.
    public static let stripeKeys: [ConfigKey] = [
        billingStripeAPIBase, billingStripeSecretKey, billingStripeSecretKeyFile, billingStripePublishableKey, billingStripeWebhookSecret,
    ]
}

extension NodeConfiguration.Billing {
    /// `billing.stripe.*`, present when `billing.gateways` includes `stripe`.
    public struct Stripe: Sendable, CustomStringConvertible {
        public var apiBase: String
        public var secretKey: String
        public var publishableKey: String?
        public var webhookSecret: String

        /// Never shows the secrets.
        public var description: String {
            "Stripe(api_base: \(apiBase), secret_key: <redacted>, webhook_secret: <redacted>)"
        }
    }
}

extension NodeConfiguration.Billing.Stripe {
    /// Reads the keys; `nil` when stripe is not an enabled gateway (the keys are then ignored).
    static func read(_ reader: Reader, enabled: Bool) throws(ConfigError) -> Self? {
        guard enabled else { return nil }
        let base = try reader.nonEmptyString(.billingStripeAPIBase)
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
              scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host)) else {
            throw reader.fail(.billingStripeAPIBase, "expected an https URL (http only for a loopback test server), got '\(base.prefix(200))'")
        }
        var key = try reader.string(.billingStripeSecretKey)
        if key.isEmpty {
            let path = try reader.string(.billingStripeSecretKeyFile)
            if !path.isEmpty {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw reader.fail(.billingStripeSecretKeyFile, "cannot read '\(path.prefix(300))'")
                }
                key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        guard !key.isEmpty else {
            throw reader.fail(.billingStripeSecretKey, "must be set (or billing.stripe.secret_key_file) when billing.gateways includes stripe")
        }
        guard key.hasPrefix("sk_") || key.hasPrefix("rk_"), key.utf8.count <= 500, !key.contains(where: { $0.isWhitespace || $0 == ":" }) else {
            throw reader.fail(.billingStripeSecretKey, "expected a Stripe secret key starting with sk_ or rk_ (the value is not shown)")
        }
        let webhookSecret = try reader.string(.billingStripeWebhookSecret)
        guard !webhookSecret.isEmpty else {
            throw reader.fail(.billingStripeWebhookSecret, "must be set when billing.gateways includes stripe (the endpoint's whsec_... signing secret)")
        }
        guard webhookSecret.utf8.count >= 16 else { throw reader.fail(.billingStripeWebhookSecret, "must be at least 16 characters (the value is not shown)") }
        let publishable = try reader.string(.billingStripePublishableKey)
        return Self(
            apiBase: base.hasSuffix("/") ? String(base.dropLast()) : base, secretKey: key,
            publishableKey: publishable.isEmpty ? nil : publishable, webhookSecret: webhookSecret
        )
    }
}
