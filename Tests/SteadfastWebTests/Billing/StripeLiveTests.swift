import Foundation
import SteadfastServices
import SteadfastTestSupport
import Testing

/// Card payments through Stripe against a real fake (localstripe on 127.0.0.1), on two real
/// nodes sharing one real PostgreSQL: server-side confirmation, declines, the card-page flow,
/// signed webhooks delivered twice at once to both nodes, refunds confirmed by webhook.
@Suite(.serialized) struct StripeLiveTests {
    static let webhookSecret = "whsec_steadfast_live_tests_0123456789"
    static let publishableKey = "pk_test_steadfast_live_tests"

    struct Setup {
        let stripe: LocalStripeServer
        let live: BillingLive
        func stop() {
            live.stop()
            stripe.stop()
        }
    }

    /// localstripe and two nodes on PostgreSQL pointed at it; `settings` are added to every
    /// node's, `perNode[i]` to node `i`'s only.
    static func start(_ name: String, settings: [String] = [], perNode: [[String]] = []) async throws -> Setup {
        let stripe = try await LocalStripeServer.start()
        do {
            let live = try await BillingLive.start(.postgres, name: name, settings: [
                "billing.gateways=banktransfer,testcard,stripe", "billing.stripe.api_base=\(stripe.apiBase)",
                "billing.stripe.secret_key=\(LocalStripeServer.secretKey)", "billing.stripe.webhook_secret=\(webhookSecret)",
                "billing.stripe.publishable_key=\(publishableKey)",
            ] + settings, perNode: perNode)
            return Setup(stripe: stripe, live: live)
        } catch {
            stripe.stop()
            throw error
        }
    }

    /// A Stripe event around `object`, as Stripe would send it, and its `Stripe-Signature`.
    static func signedEvent(type: String, object: [String: Any], secret: String = webhookSecret, at time: Date = Date()) throws -> (body: [UInt8], signature: String) {
        let event: [String: Any] = [
            "id": "evt_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24))", "object": "event", "type": type,
            "created": Int(time.timeIntervalSince1970), "data": ["object": object],
        ]
        let body = Array(try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]))
        return (body, StripeSignature(secret: secret).header(payload: body, timestamp: Int64(time.timeIntervalSince1970)))
    }

    func deliver(_ event: (body: [UInt8], signature: String?), to node: SteadfastNode) async throws -> HTTPTestClient.Response {
        var headers = ["Content-Type": "application/json"]
        if let signature = event.signature { headers["Stripe-Signature"] = signature }
        return try await node.client().send("POST", "/api/v1/gateways/stripe/webhook", headers: headers, body: event.body)
    }

    func stripePayments(_ live: BillingLive, invoice: String) async throws -> [[String: Any]] {
        try await live.all("/api/v1/admin/payments").filter { $0["invoice_id"] as? String == invoice }
    }

    @Test func payWithANewCardThenADeclinedCardThenTheCardPage() async throws {
        let setup = try await Self.start("stripepay")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let total = try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["total"] as? Int

        // A new card (4242...), created through Stripe's API as the card element would, confirmed on the server.
        let visa = try await stripe.paymentMethod(card: "4242424242424242")
        let key = UUID().uuidString
        let paid = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe", "payment_method": visa], headers: ["Idempotency-Key": key])
        #expect(paid.status == 200, "\(paid.body)")
        #expect(paid.json["result"] as? String == "paid")
        let intentID = try #require(paid.json["payment_intent"] as? String)
        let payment = try #require(paid.json["payment"] as? [String: Any])
        #expect(payment["gateway"] as? String == "stripe" && payment["transaction_id"] as? String == intentID && payment["amount"] as? Int == total)
        // Stripe has the charge, for the invoice's amount, on the client's customer, keyed by invoice and attempt.
        let atStripe = try await stripe.request("GET", "/v1/payment_intents/\(intentID)", form: nil).json
        #expect(atStripe["status"] as? String == "succeeded" && atStripe["amount"] as? Int == total && atStripe["currency"] as? String == "eur")
        #expect((atStripe["metadata"] as? [String: Any])?["invoice_id"] as? String == invoice)
        #expect((atStripe["customer"] as? String)?.hasPrefix("cus_") == true)

        // The same request again, on the other node: the stored answer, byte for byte; Stripe is not asked again.
        let requestsBefore = stripe.log().components(separatedBy: "POST /v1/payment_intents").count
        #expect(requestsBefore == 2, "one PaymentIntent created so far: \(stripe.tailOfLog())")
        let replay = try await client.pointed(at: live.node(1).baseURL).postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe", "payment_method": visa], headers: ["Idempotency-Key": key])
        #expect(replay.status == 200 && replay.body == paid.body && replay.header("Idempotent-Replayed") == "true")
        #expect(stripe.log().components(separatedBy: "POST /v1/payment_intents").count == requestsBefore)
        #expect(try await stripePayments(live, invoice: invoice).count == 1)

        // Staff refund part of it from the portal: Stripe refunds (keyed, so a retry is the same
        // refund), the ledger records it once, and Stripe's charge.refunded for it changes nothing more.
        let paymentID = try #require(payment["id"] as? String)
        let refundKey = UUID().uuidString
        let refunded = try await live.staff.postJSON("/api/v1/admin/payments/\(paymentID)/refund", ["amount": 300], headers: ["Idempotency-Key": refundKey])
        #expect(refunded.status == 201, "\(refunded.body)")
        #expect((refunded.json["refund"] as? [String: Any])?["amount"] as? Int == 300 && refunded.json["to_credit"] as? Bool == false)
        let retried = try await live.staff.pointed(at: live.node(1).baseURL).postJSON("/api/v1/admin/payments/\(paymentID)/refund", ["amount": 300], headers: ["Idempotency-Key": refundKey])
        #expect(retried.status == 201 && retried.body == refunded.body)
        let chargeID = try #require(((atStripe["charges"] as? [String: Any])?["data"] as? [[String: Any]])?.first?["id"] as? String)
        let charge = try await stripe.request("GET", "/v1/charges/\(chargeID)", form: nil).json
        #expect(charge["amount_refunded"] as? Int == 300)
        let event = try Self.signedEvent(type: "charge.refunded", object: charge)
        let confirmation = try await deliver((event.body, event.signature), to: live.node(1))
        #expect(confirmation.status == 200, "\(confirmation.body)")
        let refunds = try await stripePayments(live, invoice: invoice).filter { $0["kind"] as? String == "refund" }
        #expect(refunds.map { $0["amount"] as? Int } == [300])
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["amount_paid"] as? Int == (total ?? 0) - 300)
        // More than is left is refused before Stripe is asked.
        let tooMuch = try await live.staff.postJSON("/api/v1/admin/payments/\(paymentID)/refund", ["amount": total ?? 0], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(tooMuch.status == 400 && tooMuch.error["field"] as? String == "amount")
        #expect(try await stripe.request("GET", "/v1/charges/\(chargeID)", form: nil).json["amount_refunded"] as? Int == 300)

        // A declined card: 402 with the decline, nothing recorded, the invoice still unpaid.
        // (localstripe declines 4000000000000341 when charging; see docs/billing.md.)
        let (_, second) = try await live.order(client)
        let declinedCard = try await stripe.paymentMethod(card: "4000000000000341")
        let declined = try await client.postJSON("/api/v1/invoices/\(second)/pay", ["gateway": "stripe", "payment_method": declinedCard], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(declined.status == 402, "\(declined.body)")
        #expect(declined.error["code"] as? String == "payment_declined" && declined.error["field"] as? String == "payment_method")
        #expect(try await stripePayments(live, invoice: second).isEmpty)
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(second)").json["status"] as? String == "unpaid")

        // Without a payment method: 202 and the PaymentIntent's client_secret for Stripe's card element.
        let pending = try await client.postJSON("/api/v1/invoices/\(second)/pay", ["gateway": "stripe"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(pending.status == 202, "\(pending.body)")
        #expect(pending.json["result"] as? String == "pending")
        let pendingIntent = try #require(pending.json["payment_intent"] as? String)
        #expect((pending.json["client_secret"] as? String)?.hasPrefix("\(pendingIntent)_secret") == true)
        // One Stripe customer per client, created once.
        let intent2 = try await stripe.request("GET", "/v1/payment_intents/\(pendingIntent)", form: nil).json
        #expect(intent2["customer"] as? String == atStripe["customer"] as? String)

        // The HTML invoice page offers Stripe as "Pay by card" (its own page), never as an option of the other form.
        let page = try await client.get("/clientarea/invoices/\(second)")
        #expect(page.status == 200 && page.body.contains("value=\"banktransfer\"") && !page.body.contains("value=\"stripe\""))
        #expect(page.body.contains("action=\"/clientarea/invoices/\(second)/card\"") && page.body.contains("Pay by card"))

        // Another client's invoice is 404, and Stripe is not called for it.
        let other = try await live.client("other")
        let foreign = try await other.postJSON("/api/v1/invoices/\(second)/pay", ["gateway": "stripe", "payment_method": visa], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(foreign.status == 404)
        let badMethod = try await client.postJSON("/api/v1/invoices/\(second)/pay", ["gateway": "stripe", "payment_method": "pm_x/../../v1"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(badMethod.status == 400 && badMethod.error["field"] as? String == "payment_method")
    }

    @Test func aWebhookDeliveredTwiceAtOnceToBothNodesRecordsOnePaymentAndForgeriesApplyNothing() async throws {
        let setup = try await Self.start("stripehook")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let pending = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(pending.status == 202, "\(pending.body)")
        let intentID = try #require(pending.json["payment_intent"] as? String)
        // The client pays on Stripe's card page (here: through localstripe's API, which cannot
        // confirm with a payment_method in one call: it is set first, then confirmed).
        let attached = try await stripe.request("POST", "/v1/payment_intents/\(intentID)", form: [("payment_method", "pm_card_visa")])
        #expect(attached.status == 200, "\(attached.json)")
        let confirmed = try await stripe.request("POST", "/v1/payment_intents/\(intentID)/confirm", form: [])
        #expect(confirmed.status == 200 && confirmed.json["status"] as? String == "succeeded", "\(confirmed.json)")

        let event = try Self.signedEvent(type: "payment_intent.succeeded", object: confirmed.json)
        // Forgeries: wrong secret, old timestamp, altered body, no header. Each is 400; nothing is applied.
        let wrongSecret = try Self.signedEvent(type: "payment_intent.succeeded", object: confirmed.json, secret: "whsec_not_the_endpoint_secret_at_all")
        let old = try Self.signedEvent(type: "payment_intent.succeeded", object: confirmed.json, at: Date().addingTimeInterval(-301))
        var altered = event.body
        altered[altered.count / 2] = altered[altered.count / 2] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        for (label, forged) in [("wrong secret", (wrongSecret.body, Optional(wrongSecret.signature))), ("old timestamp", (old.body, old.signature)),
                                ("altered body", (altered, event.signature)), ("missing header", (event.body, nil))] {
            let answer = try await deliver(forged, to: live.node(0))
            #expect(answer.status == 400, "\(label): \(answer.status) \(answer.body)")
            #expect(answer.error["field"] as? String == "Stripe-Signature", "\(label)")
        }
        #expect(try await stripePayments(live, invoice: invoice).isEmpty)
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["status"] as? String == "unpaid")

        // The genuine event, delivered twice at once to each node, and a second event id for the
        // same PaymentIntent (Stripe may send several): one payment.
        let again = try Self.signedEvent(type: "payment_intent.succeeded", object: confirmed.json)
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<6 {
                let node = live.node(i)
                let delivery = i == 5 ? again : event
                group.addTask {
                    let answer = try await self.deliver((delivery.body, delivery.signature), to: node)
                    return (answer.status, answer.body)
                }
            }
            return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
        }
        #expect(Set(answers.map(\.0)) == [200], "\(answers)")
        let payments = try await stripePayments(live, invoice: invoice)
        #expect(payments.count == 1, "\(payments)")
        #expect(payments.first?["transaction_id"] as? String == intentID)
        let state = try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json
        #expect(state["status"] as? String == "paid" && state["amount_paid"] as? Int == state["total"] as? Int)

        // A partial refund made at Stripe, confirmed by charge.refunded (cumulative amount), delivered twice.
        let refund = try await stripe.request("POST", "/v1/refunds", form: [("payment_intent", intentID), ("amount", "500")])
        #expect(refund.status == 200, "\(refund.json)")
        let chargeID = try #require(refund.json["charge"] as? String)
        let charge = try await stripe.request("GET", "/v1/charges/\(chargeID)", form: nil).json
        #expect(charge["amount_refunded"] as? Int == 500)
        let refunded = try Self.signedEvent(type: "charge.refunded", object: charge)
        for node in live.nodes {
            let answer = try await deliver((refunded.body, refunded.signature), to: node)
            #expect(answer.status == 200, "\(answer.body)")
        }
        let afterRefund = try await stripePayments(live, invoice: invoice)
        #expect(afterRefund.filter { $0["kind"] as? String == "refund" }.map { $0["amount"] as? Int } == [500])
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["amount_paid"] as? Int == (state["total"] as? Int ?? 0) - 500)

        // A dispute is recorded against the PaymentIntent; an event for a PaymentIntent this portal did not create is ignored.
        let dispute = try Self.signedEvent(type: "charge.dispute.created", object: [
            "id": "dp_1", "object": "dispute", "amount": 500, "currency": "eur", "charge": chargeID, "payment_intent": intentID, "reason": "fraudulent",
        ])
        let disputed = try await deliver((dispute.body, dispute.signature), to: live.node(1))
        #expect(disputed.status == 200 && disputed.json["result"] as? String == "disputed", "\(disputed.body)")
        let foreign = try Self.signedEvent(type: "payment_intent.succeeded", object: ["id": "pi_notours", "object": "payment_intent", "amount": 100, "currency": "eur", "status": "succeeded"])
        let ignored = try await deliver((foreign.body, foreign.signature), to: live.node(0))
        #expect(ignored.status == 200 && ignored.json["result"] as? String == "ignored", "\(ignored.body)")
    }

    /// localstripe signs and delivers its own events (an independent implementation of
    /// Stripe-Signature) to node B while the client's server-side confirm on node A records the
    /// payment: the webhook finds it recorded; every other event type is acknowledged and ignored.
    @Test func localstripesOwnSignedDeliveriesAreAcceptedAndRecordNothingTwice() async throws {
        let setup = try await Self.start("stripeown")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        try await stripe.registerWebhook(url: live.node(1).baseURL + "/api/v1/gateways/stripe/webhook", secret: Self.webhookSecret)
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let paid = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe", "payment_method": "pm_card_visa"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(paid.status == 200, "\(paid.body)")
        // localstripe delivers about a second after the event; wait (bounded) until it says so.
        try await waitUntil("localstripe delivered its payment_intent.succeeded webhook: \(stripe.tailOfLog())", timeout: .seconds(20)) {
            stripe.log().contains("webhook \"payment_intent.succeeded\" successfully delivered")
        }
        #expect(!stripe.log().contains("failed with response code"), "\(stripe.tailOfLog())")
        #expect(try await stripePayments(live, invoice: invoice).count == 1)
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["status"] as? String == "paid")
    }

    /// A CSRF token for `client`'s HTML form posts, read from one of its pages on `node`.
    static func csrf(_ client: HTTPTestClient, invoice: String) async throws -> String {
        let page = try await client.get("/clientarea/invoices/\(invoice)")
        return try #require(page.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1, "\(page.status) \(page.body.prefix(300))").description
    }

    /// What the card element does in the browser, through localstripe's API: the card is set on
    /// the PaymentIntent, then confirmed (localstripe cannot do both in one call).
    static func payOnStripesPage(_ stripe: LocalStripeServer, intent: String, card: String = "pm_card_visa") async throws -> [String: Any] {
        let attached = try await stripe.request("POST", "/v1/payment_intents/\(intent)", form: [("payment_method", card)])
        #expect(attached.status == 200, "\(attached.json)")
        let confirmed = try await stripe.request("POST", "/v1/payment_intents/\(intent)/confirm", form: [])
        #expect(confirmed.status == 200, "\(confirmed.json)")
        return confirmed.json
    }

    /// The card page over HTTP (the browser walk is `BrowserCardLiveTests`): "Pay by card" makes
    /// one PaymentIntent per form key and serves Stripe.js from the configured origin under a
    /// Content-Security-Policy that adds exactly that origin; the return is checked at Stripe:
    /// before the client confirmed it records nothing, after it records the payment once and can
    /// save the card; another client, or another invoice's PaymentIntent, is 404.
    @Test func theCardPageAndTheReturnAreCheckedAtStripe() async throws {
        let setup = try await Self.start("stripepage")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let (_, otherInvoice) = try await live.order(client)
        let csrf = try await Self.csrf(client, invoice: invoice)
        let key = UUID().uuidString
        let page = try await client.postForm("/clientarea/invoices/\(invoice)/card", ["_csrf": csrf, "idempotency_key": key])
        #expect(page.status == 200, "\(page.body.prefix(500))")
        let intent = try #require(page.body.firstMatch(of: /name="payment_intent" value="(pi_[A-Za-z0-9]+)"/)?.1).description
        let origin = stripe.apiBase
        #expect(page.body.contains("<script src=\"\(origin)/js.stripe.com/v3/\"></script>") && page.body.contains("/assets/card-payment.js"))
        #expect(page.body.contains("data-publishable-key=\"\(Self.publishableKey)\"") && page.body.contains("data-client-secret=\"\(intent)_secret"))
        #expect(page.header("Content-Security-Policy") == "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; script-src 'self' \(origin); frame-src \(origin); connect-src 'self' \(origin)")
        // Every other page keeps the strict policy.
        #expect(try await client.get("/clientarea/invoices/\(invoice)").header("Content-Security-Policy") == "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        // The script asset is served.
        let script = try await client.get("/assets/card-payment.js")
        #expect(script.status == 200 && script.body.contains("confirmCardPayment"))
        // A reload (same form key, on the other node) is the same PaymentIntent.
        let again = try await client.pointed(at: live.node(1).baseURL).postForm("/clientarea/invoices/\(invoice)/card", ["_csrf": csrf, "idempotency_key": key])
        #expect(again.status == 200 && again.body.contains("value=\"\(intent)\""))
        #expect(stripe.log().components(separatedBy: "\"POST /v1/payment_intents HTTP").count - 1 == 1, "\(stripe.tailOfLog())")

        // Returning before the card was confirmed at Stripe (a forged or early return) records nothing.
        let early = try await client.postForm("/clientarea/invoices/\(invoice)/card/return", ["_csrf": csrf, "payment_intent": intent])
        #expect(early.status == 303)
        #expect(try await stripePayments(live, invoice: invoice).isEmpty)
        #expect(try await client.get("/clientarea/invoices/\(invoice)").body.contains("not complete yet"))
        // Another client, and another invoice of the same client, do not reach this PaymentIntent.
        let other = try await live.client("other")
        let otherPage = try await other.get("/clientarea/invoices")
        let otherToken = try #require(otherPage.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1).description
        #expect(try await other.postForm("/clientarea/invoices/\(invoice)/card", ["_csrf": otherToken, "idempotency_key": UUID().uuidString]).status == 404)
        #expect(try await other.postForm("/clientarea/invoices/\(invoice)/card/return", ["_csrf": otherToken, "payment_intent": intent]).status == 404)
        #expect(try await client.postForm("/clientarea/invoices/\(otherInvoice)/card/return", ["_csrf": csrf, "payment_intent": intent]).status == 404)
        #expect(try await client.postForm("/clientarea/invoices/\(invoice)/card/return", ["_csrf": csrf, "payment_intent": "pi_x/../v1"]).status == 400)

        // The client pays on Stripe's page, then returns, asking to save the card: one payment, the card saved.
        let card = try await stripe.paymentMethod(card: "4242424242424242")
        _ = try await Self.payOnStripesPage(stripe, intent: intent, card: card)
        let returned = try await client.postForm("/clientarea/invoices/\(invoice)/card/return", ["_csrf": csrf, "payment_intent": intent, "save_card": "1"])
        #expect(returned.status == 303 && returned.header("Location") == "/clientarea/invoices/\(invoice)")
        let shown = try await client.get("/clientarea/invoices/\(invoice)").body
        #expect(shown.contains("your payment was received") && shown.contains("ending in 4242"), "\(shown.prefix(2000))")
        // Returning again (a reload of the return) records nothing more.
        #expect(try await client.postForm("/clientarea/invoices/\(invoice)/card/return", ["_csrf": csrf, "payment_intent": intent]).status == 303)
        let payments = try await stripePayments(live, invoice: invoice)
        #expect(payments.count == 1 && payments.first?["transaction_id"] as? String == intent, "\(payments)")
        let state = try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json
        #expect(state["status"] as? String == "paid" && state["amount_paid"] as? Int == state["total"] as? Int)
        let cards = try await client.get("/api/v1/me/payment-methods").json["items"] as? [[String: Any]] ?? []
        #expect(cards.map { $0["id"] as? String } == [card] && cards.first?["last4"] as? String == "4242", "\(cards)")
    }

    /// Issue 17: "the client's return and the webhook at the same moment". Round after round, the
    /// client's return from the card page on node A and Stripe's `payment_intent.succeeded` on
    /// node B are sent at once: one payment, one charge at Stripe, the invoice paid once.
    @Test func theClientsReturnAndTheWebhookAtTheSameMomentApplyThePaymentOnce() async throws {
        let setup = try await Self.start("stripereturn")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()
        let nodeA = client.pointed(at: live.node(0).baseURL)
        let rounds = 6
        for round in 0..<rounds {
            let (_, invoice) = try await live.order(client)
            let csrf = try await Self.csrf(nodeA, invoice: invoice)
            let pending = try await nodeA.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe"], headers: ["Idempotency-Key": UUID().uuidString])
            #expect(pending.status == 202, "\(pending.body)")
            let intent = try #require(pending.json["payment_intent"] as? String)
            let confirmed = try await Self.payOnStripesPage(stripe, intent: intent)
            #expect(confirmed["status"] as? String == "succeeded", "\(confirmed)")
            let event = try Self.signedEvent(type: "payment_intent.succeeded", object: confirmed)
            let nodeB = live.node(1)
            // Both at once; which one wins differs from round to round.
            let (returned, delivered) = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                group.addTask {
                    let answer = try await nodeA.postForm("/clientarea/invoices/\(invoice)/card/return", ["_csrf": csrf, "payment_intent": intent])
                    return ("return", answer.status)
                }
                group.addTask {
                    let answer = try await self.deliver((event.body, event.signature), to: nodeB)
                    return ("webhook", answer.status)
                }
                var statuses: [String: Int] = [:]
                for try await (name, status) in group { statuses[name] = status }
                return (statuses["return"], statuses["webhook"])
            }
            #expect(returned == 303 && delivered == 200, "round \(round): return \(String(describing: returned)), webhook \(String(describing: delivered))")
            let payments = try await stripePayments(live, invoice: invoice)
            #expect(payments.count == 1 && payments.first?["transaction_id"] as? String == intent, "round \(round): \(payments)")
            let state = try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json
            #expect(state["status"] as? String == "paid" && state["amount_paid"] as? Int == state["total"] as? Int, "round \(round): \(state)")
            #expect(state["amount_received"] as? Int == state["total"] as? Int, "round \(round): paid once, not twice")
            // One charge at Stripe for this PaymentIntent.
            let charges = (try await stripe.request("GET", "/v1/charges?limit=100", form: nil).json["data"] as? [[String: Any]] ?? [])
                .filter { $0["payment_intent"] as? String == intent }
            #expect(charges.count == 1, "round \(round): \(charges.count) charges")
            // The client sees one thank-you, and no credit was made of a double payment.
            #expect(try await nodeA.get("/api/v1/credit").json["balance"] as? Int == 0, "round \(round)")
        }
        // One PaymentIntent created per invoice: neither path made another.
        #expect(stripe.log().components(separatedBy: "\"POST /v1/payment_intents HTTP").count - 1 == rounds, "\(stripe.tailOfLog())")
    }
}
