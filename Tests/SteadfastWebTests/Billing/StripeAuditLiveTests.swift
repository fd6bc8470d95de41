import Foundation
import SteadfastTestSupport
import Testing

/// What Stripe changes is on the audit trail with the right actor (docs/accounts.md, "Audit
/// trail"), against localstripe and two real nodes on PostgreSQL: a saved and a removed card
/// (the client), a declined automatic capture (the `billing-capture` job), a payment confirmed on
/// the server (the client), a dispute and a refund reported by webhook (the `stripe` gateway),
/// and a staff refund at Stripe that the webhook then confirms without a second event.
@Suite(.serialized) struct StripeAuditLiveTests {
    /// The events with `action`, newest first, each as (actor kind, actor's job or gateway, object id).
    static func events(_ live: BillingLive, _ action: String) async throws -> [(kind: String, name: String?, object: String?)] {
        let page = try await live.staff.get("/api/v1/admin/audit-events?limit=200")
        let items = try #require(page.json["items"] as? [[String: Any]], "\(page.status) \(page.body.prefix(300))")
        return items.filter { $0["action"] as? String == action }.map { item in
            let actor = item["actor"] as? [String: Any] ?? [:]
            return (actor["kind"] as? String ?? "", (actor["job"] as? String) ?? (actor["gateway"] as? String), (item["object"] as? [String: Any])?["id"] as? String)
        }
    }

    @Test func stripesChangesAreRecordedAsTheirActorsDoing() async throws {
        let setup = try await StripeCaptureLiveTests.start("stripeaudit")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()

        // A card saved by the client: declined whenever it is charged.
        let (_, card) = try await StripeCaptureLiveTests.saveCard("4000000000000341", client: client, stripe: stripe)
        let cardID = try #require(card["id"] as? String)
        let added = try await Self.events(live, "payment_method.added")
        #expect(added.count == 1 && added.first?.kind == "account" && added.first?.object == cardID, "\(added)")

        // The capture job charges it and is declined: one event, the job's.
        let (_, invoice) = try await live.order(client)
        _ = try await StripeCaptureLiveTests.finishedRun(live, slot: try await StripeCaptureLiveTests.queueCapture(live))
        let failed = try await Self.events(live, "payment.capture_failed")
        #expect(failed.count == 1 && failed.first?.kind == "job" && failed.first?.name == "billing-capture" && failed.first?.object == invoice, "\(failed)")

        // The client pays with another card, confirmed on the server: the client's payment.
        let paid = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe", "payment_method": "pm_card_visa"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(paid.status == 200 && paid.json["result"] as? String == "paid", "\(paid.body)")
        let paymentID = try #require((paid.json["payment"] as? [String: Any])?["id"] as? String)
        let received = try await Self.events(live, "payment.received")
        #expect(received.count == 1 && received.first?.kind == "account" && received.first?.object == paymentID, "\(received)")

        // Stripe reports a dispute: the gateway's event.
        let intentID = try #require(paid.json["payment_intent"] as? String)
        let intent = try await stripe.request("GET", "/v1/payment_intents/\(intentID)", form: nil).json
        let chargeID = try #require(((intent["charges"] as? [String: Any])?["data"] as? [[String: Any]])?.first?["id"] as? String)
        let dispute = try StripeLiveTests.signedEvent(type: "charge.dispute.created", object: [
            "id": "dp_audit_1", "object": "dispute", "amount": intent["amount"] as? Int ?? 0, "currency": "eur", "charge": chargeID, "reason": "fraudulent",
        ])
        let answer = try await live.node(1).client().send("POST", "/api/v1/gateways/stripe/webhook", headers: ["Content-Type": "application/json", "Stripe-Signature": dispute.signature], body: dispute.body)
        #expect(answer.status == 200, "\(answer.body)")
        let disputed = try await Self.events(live, "payment.disputed")
        #expect(disputed.count == 1 && disputed.first?.kind == "gateway" && disputed.first?.name == "stripe" && disputed.first?.object == paymentID, "\(disputed)")

        // Staff refund part at Stripe: staff's event; Stripe's charge.refunded for it adds none.
        let refunded = try await live.staff.postJSON("/api/v1/admin/payments/\(paymentID)/refund", ["amount": 300], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(refunded.status == 201, "\(refunded.body)")
        let charge = try await stripe.request("GET", "/v1/charges/\(chargeID)", form: nil).json
        let confirmation = try StripeLiveTests.signedEvent(type: "charge.refunded", object: charge)
        #expect(try await live.node(1).client().send("POST", "/api/v1/gateways/stripe/webhook", headers: ["Content-Type": "application/json", "Stripe-Signature": confirmation.signature], body: confirmation.body).status == 200)
        let refunds = try await Self.events(live, "payment.refunded")
        #expect(refunds.count == 1 && refunds.first?.kind == "account" && refunds.first?.object == paymentID, "\(refunds)")

        // A refund made at Stripe's dashboard, reported by webhook: the gateway's event.
        _ = try await stripe.request("POST", "/v1/refunds", form: [("charge", chargeID), ("amount", "200")])
        let later = try await stripe.request("GET", "/v1/charges/\(chargeID)", form: nil).json
        let reported = try StripeLiveTests.signedEvent(type: "charge.refunded", object: later)
        #expect(try await live.node(1).client().send("POST", "/api/v1/gateways/stripe/webhook", headers: ["Content-Type": "application/json", "Stripe-Signature": reported.signature], body: reported.body).status == 200)
        let all = try await Self.events(live, "payment.refunded")
        #expect(all.count == 2 && all.first?.kind == "gateway" && all.first?.name == "stripe", "\(all)")

        // The client removes the card.
        #expect(try await client.send("DELETE", "/api/v1/me/payment-methods/\(cardID)").status == 204)
        let removed = try await Self.events(live, "payment_method.removed")
        #expect(removed.count == 1 && removed.first?.kind == "account" && removed.first?.object == cardID, "\(removed)")
    }
}
