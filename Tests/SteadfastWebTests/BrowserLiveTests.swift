import Foundation
import SteadfastTestSupport
import Testing

/// The portal in a real browser (issue 16): `Tests/Browser/portal_journeys.py` drives Debian's
/// headless Chromium through Selenium against a live node, at 1280×900 and at 390×844 (phone
/// emulation): the staff set-up journey, the client journey from the store to a paid invoice,
/// and the error paths (a wrong password, bad input that keeps its values, an expired CSRF
/// form). On every page nothing may scroll sideways and every form control must have an
/// accessible name. Screenshots of each step are kept in `ci-artifacts/browser/`.
/// scripts/test.sh installs `chromium`, `chromium-driver` and `selenium`; the script never lets
/// Selenium Manager download anything (docs/testing.md).
@Suite(.serialized) struct BrowserLiveTests {
    static let password = "correct horse battery"

    @Test(.timeLimit(.minutes(5))) func staffAndClientJourneysOnDesktopAndPhone() async throws {
        let node = try await SteadfastNode.start(name: "browser", arguments: [
            "--admin-email", "staff@example.com", "--admin-password", Self.password,
            "--set", "billing.currency=EUR", "--set", "billing.tax_rules=DE=19:VAT", "--set", "billing.default_country=DE",
            "--set", "billing.gateways=banktransfer,testcard", "--set", "billing.testcard_secret=browser-test-secret-16",
        ])
        defer { node.process.send(SIGKILL) }
        let artifacts = TestPaths.packageRoot.appendingPathComponent("ci-artifacts/browser")
        try? FileManager.default.removeItem(at: artifacts)
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Browser/portal_journeys.py").path
        let result = try await ProcessRunner.run(
            ["python3", script, "--base", node.baseURL, "--staff-email", "staff@example.com", "--staff-password", Self.password, "--out", artifacts.path],
            environment: ["SE_OFFLINE": "true", "PYTHONUNBUFFERED": "1"], timeout: .seconds(240)
        )
        print(result.output)
        #expect(result.status == 0, "the browser journeys failed (screenshots in \(artifacts.path)):\n\(result.output)\n\(result.standardError.suffix(4000))")
        #expect(result.output.contains("desktop:") && result.output.contains("phone:"), "both viewports ran")
        let screenshots = (try? FileManager.default.contentsOfDirectory(atPath: artifacts.path).filter { $0.hasSuffix(".png") }) ?? []
        #expect(screenshots.count >= 40, "a screenshot of every step: \(screenshots.count)")
    }

    /// The card page in the browser (issue 17): a node with the stripe gateway pointed at
    /// localstripe, whose Stripe.js mock the page loads; `Tests/Browser/card_payment.py` pays one
    /// invoice per viewport through Stripe's card element (a decline, then a saved card on the
    /// desktop; 3-D Secure on the phone). localstripe also delivers its own signed
    /// `payment_intent.succeeded` to the node, racing the client's return: each invoice ends paid
    /// once, with one payment and one PaymentIntent at Stripe.
    @Test(.timeLimit(.minutes(5))) func payingOnTheCardPageOnDesktopAndPhone() async throws {
        let stripe = try await LocalStripeServer.start()
        defer { stripe.stop() }
        let secret = "whsec_steadfast_browser_tests_0123"
        let live = try await BillingLive.start(.sqlite, name: "browsercard", settings: [
            "billing.gateways=banktransfer,stripe", "billing.stripe.api_base=\(stripe.apiBase)", "billing.stripe.secret_key=\(LocalStripeServer.secretKey)",
            "billing.stripe.webhook_secret=\(secret)", "billing.stripe.publishable_key=pk_test_steadfast_browser",
        ])
        defer { live.stop() }
        try await stripe.registerWebhook(url: live.node(0).baseURL + "/api/v1/gateways/stripe/webhook", secret: secret)
        let artifacts = TestPaths.packageRoot.appendingPathComponent("ci-artifacts/browser-card")
        try? FileManager.default.removeItem(at: artifacts)
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Browser/card_payment.py").path
        let result = try await ProcessRunner.run(
            ["python3", script, "--base", live.node(0).baseURL, "--product", "Web hosting", "--out", artifacts.path],
            environment: ["SE_OFFLINE": "true", "PYTHONUNBUFFERED": "1"], timeout: .seconds(240)
        )
        print(result.output)
        #expect(result.status == 0, "the card page walk failed (screenshots in \(artifacts.path)):\n\(result.output)\n\(result.standardError.suffix(4000))")
        let paid = result.output.split(separator: "\n").filter { $0.hasPrefix("PAID ") }.map { String($0.split(separator: " ")[2]) }
        #expect(paid.count == 2, "an invoice paid on each viewport: \(paid)")
        // localstripe's own deliveries race the returns; wait (bounded) until it has sent them.
        func delivered() -> Int { stripe.log().components(separatedBy: "webhook \"payment_intent.succeeded\" successfully delivered").count - 1 }
        try await waitUntil("localstripe delivered \(paid.count) payment_intent.succeeded webhooks: \(stripe.tailOfLog())", timeout: .seconds(20)) {
            delivered() >= paid.count
        }
        for invoice in paid {
            let state = try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json
            #expect(state["status"] as? String == "paid" && state["amount_received"] as? Int == state["total"] as? Int, "\(state)")
            let payments = try await live.all("/api/v1/admin/payments").filter { $0["invoice_id"] as? String == invoice }
            #expect(payments.count == 1 && payments.first?["gateway"] as? String == "stripe", "\(payments)")
            let intents = (state["card_payments"] as? [[String: Any]]) ?? []
            #expect(intents.count == 1, "one PaymentIntent per invoice: \(intents)")
        }
        // One PaymentIntent per paid invoice: the declined card and the good one were the same PaymentIntent.
        #expect(stripe.log().components(separatedBy: "\"POST /v1/payment_intents HTTP").count - 1 == paid.count, "\(stripe.tailOfLog())")
    }
}
