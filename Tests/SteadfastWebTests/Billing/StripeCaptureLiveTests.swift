import Foundation
import SteadfastServices
import SteadfastTestSupport
import Testing

/// Saved cards and the automatic capture job against localstripe on 127.0.0.1, with real nodes
/// on one real PostgreSQL: a card saved through a SetupIntent, the next invoice charged
/// off-session by the `billing-capture` job, a declined capture e-mailed once and not retried
/// before its time, and the capture job's node killed with SIGKILL right after Stripe accepted
/// the charge: the retry on another node finds the charge and records it once.
@Suite(.serialized) struct StripeCaptureLiveTests {
    static let webhookSecret = StripeLiveTests.webhookSecret

    typealias Setup = StripeLiveTests.Setup

    /// Node 0 runs the scheduler; node 1 only serves (`jobs.enabled=false`), so the test knows
    /// which node makes the capture run. A short lease lets another node take a dead node's run over quickly.
    static func start(_ name: String) async throws -> Setup {
        try await StripeLiveTests.start(name, settings: [
            "billing.stripe.publishable_key=pk_test_steadfast", "billing.capture_days_before_due=7", "jobs.lease=3s", "jobs.poll_interval=300ms",
        ], perNode: [[], ["jobs.enabled=false"]])
    }

    /// Saves `card` for `client` the way the card page does: a SetupIntent from the portal,
    /// confirmed at Stripe (here through localstripe's API, as Stripe.js would), then handed back.
    static func saveCard(_ card: String, client: HTTPTestClient, stripe: LocalStripeServer) async throws -> (setupIntent: String, card: [String: Any]) {
        let setup = try await client.postJSON("/api/v1/me/payment-methods/setup", [:], headers: ["Idempotency-Key": UUID().uuidString])
        guard setup.status == 201, let seti = setup.json["setup_intent"] as? String, let secret = setup.json["client_secret"] as? String else {
            throw HarnessError("setup failed: \(setup.status) \(setup.body)")
        }
        #expect(setup.json["publishable_key"] as? String == "pk_test_steadfast")
        let method = try await stripe.paymentMethod(card: card)
        let confirmed = try await stripe.request("POST", "/v1/setup_intents/\(seti)/confirm", form: [("payment_method", method), ("client_secret", secret)])
        guard confirmed.status == 200, confirmed.json["status"] as? String == "succeeded" else { throw HarnessError("confirm failed: \(confirmed.json)") }
        let saved = try await client.postJSON("/api/v1/me/payment-methods", ["setup_intent": seti])
        guard saved.status == 201 else { throw HarnessError("save failed: \(saved.status) \(saved.body)") }
        return (seti, saved.json)
    }

    /// Queues a manual run of `billing-capture` (on the node that serves `staff`) and returns its slot key.
    static func queueCapture(_ live: BillingLive) async throws -> String {
        let queued = try await live.staff.pointed(at: live.node(1).baseURL).postJSON("/api/v1/admin/jobs/billing-capture/run", [:])
        guard queued.status == 202, let slot = queued.json["slot_key"] as? String else { throw HarnessError("queue failed: \(queued.status) \(queued.body)") }
        return slot
    }

    /// The state of a run of `billing-capture`, read through node 1.
    static func run(_ live: BillingLive, slot: String) async throws -> [String: Any]? {
        let runs = try await live.staff.pointed(at: live.node(1).baseURL).get("/api/v1/admin/jobs/billing-capture/runs?limit=50")
        return (runs.json["runs"] as? [[String: Any]])?.first { $0["slot_key"] as? String == slot }
    }

    static func finishedRun(_ live: BillingLive, slot: String, timeout: Duration = .seconds(60)) async throws -> [String: Any] {
        var last: [String: Any]?
        let done = try await eventually(timeout: timeout, interval: .milliseconds(200)) {
            last = try await run(live, slot: slot)
            return ["succeeded", "failed", "timed_out", "abandoned"].contains(last?["state"] as? String ?? "")
        }
        guard done, let last else { throw HarnessError("the capture run \(slot) did not finish: \(String(describing: last))") }
        return last
    }

    /// The PaymentIntents localstripe holds for `invoice` (by the metadata the portal sets).
    static func intentsAtStripe(_ stripe: LocalStripeServer, invoice: String) async throws -> [[String: Any]] {
        let list = try await stripe.request("GET", "/v1/payment_intents?limit=100", form: nil).json
        return (list["data"] as? [[String: Any]] ?? []).filter { ($0["metadata"] as? [String: Any])?["invoice_id"] as? String == invoice }
    }

    /// The invoice's payments (not refunds), read through node 1, which every test keeps alive.
    static func payments(_ live: BillingLive, invoice: String) async throws -> [[String: Any]] {
        let staff = live.staff.pointed(at: live.node(1).baseURL)
        var items: [[String: Any]] = []
        while true {
            let batch = try await staff.get("/api/v1/admin/payments?limit=200&offset=\(items.count)").json["items"] as? [[String: Any]] ?? []
            items += batch
            if batch.count < 200 { break }
        }
        return items.filter { $0["invoice_id"] as? String == invoice && $0["kind"] as? String != "refund" }
    }

    @Test func aSavedCardIsChargedOffSessionByTheCaptureJobAndCardsAreTheirOwnersOnly() async throws {
        let setup = try await Self.start("stripecap")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()

        // Pay the first invoice with a new card on the server, then save a card for later.
        let (_, first) = try await live.order(client)
        let paid = try await client.postJSON("/api/v1/invoices/\(first)/pay", ["gateway": "stripe", "payment_method": "pm_card_visa"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(paid.status == 200, "\(paid.body)")
        let (seti, card) = try await Self.saveCard("4242424242424242", client: client, stripe: stripe)
        let cardID = try #require(card["id"] as? String)
        #expect(card["last4"] as? String == "4242" && card["is_default"] as? Bool == true && card["brand"] as? String == "visa", "\(card)")
        // Attached to the client's own Stripe customer.
        let atStripe = try await stripe.request("GET", "/v1/payment_methods/\(cardID)", form: nil).json
        let customer = try #require(atStripe["customer"] as? String)
        let intent = try await stripe.request("GET", "/v1/payment_intents/\(try #require(paid.json["payment_intent"] as? String))", form: nil).json
        #expect(intent["customer"] as? String == customer)
        // Saving the same SetupIntent again changes nothing; the list shows one card, on any node.
        let again = try await client.postJSON("/api/v1/me/payment-methods", ["setup_intent": seti])
        #expect(again.status == 201 && again.json["id"] as? String == cardID)
        let listed = try await client.pointed(at: live.node(1).baseURL).get("/api/v1/me/payment-methods")
        #expect((listed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [cardID], "\(listed.body)")

        // Another client can neither see, take over nor remove it: 404 each time.
        let other = try await live.client("other")
        #expect((try await other.get("/api/v1/me/payment-methods").json["items"] as? [Any])?.isEmpty == true)
        let stolen = try await other.postJSON("/api/v1/me/payment-methods", ["setup_intent": seti])
        #expect(stolen.status == 404, "\(stolen.body)")
        // A SetupIntent the owner confirmed but has not handed back yet is not the other's either.
        let fresh = try await client.postJSON("/api/v1/me/payment-methods/setup", [:], headers: ["Idempotency-Key": UUID().uuidString])
        let freshID = try #require(fresh.json["setup_intent"] as? String)
        let mastercard = try await stripe.paymentMethod(card: "5555555555554444")
        _ = try await stripe.request("POST", "/v1/setup_intents/\(freshID)/confirm", form: [("payment_method", mastercard), ("client_secret", fresh.json["client_secret"] as? String ?? "")])
        let taken = try await other.postJSON("/api/v1/me/payment-methods", ["setup_intent": freshID])
        #expect(taken.status == 404, "\(taken.body)")
        #expect((try await other.get("/api/v1/me/payment-methods").json["items"] as? [Any])?.isEmpty == true)
        #expect(try await stripe.request("GET", "/v1/payment_methods/\(mastercard)", form: nil).json["customer"] is NSNull, "not attached to the other's customer")
        let removedByOther = try await other.send("DELETE", "/api/v1/me/payment-methods/\(cardID)")
        #expect(removedByOther.status == 404)
        let badID = try await client.postJSON("/api/v1/me/payment-methods", ["setup_intent": "seti_../../v1/charges"])
        #expect(badID.status == 400 && badID.error["field"] as? String == "setup_intent", "\(badID.body)")

        // The next invoice (due in 7 days: within billing.capture_days_before_due) is charged by the job.
        let (_, second) = try await live.order(client)
        let slot = try await Self.queueCapture(live)
        let run = try await Self.finishedRun(live, slot: slot)
        #expect(run["state"] as? String == "succeeded", "\(run)")
        let state = try await live.staff.get("/api/v1/admin/invoices/\(second)").json
        #expect(state["status"] as? String == "paid", "\(state)")
        let recorded = try await Self.payments(live, invoice: second)
        #expect(recorded.count == 1 && recorded.first?["gateway"] as? String == "stripe", "\(recorded)")
        let charged = try await Self.intentsAtStripe(stripe, invoice: second)
        #expect(charged.count == 1, "\(charged)")
        #expect(charged.first?["status"] as? String == "succeeded" && charged.first?["payment_method"] as? String == cardID)
        #expect((charged.first?["metadata"] as? [String: Any])?["attempt"] as? String == "capture-1")
        #expect(recorded.first?["transaction_id"] as? String == charged.first?["id"] as? String)
        // The already-paid first invoice was not charged again; a second run charges nothing.
        #expect(try await Self.intentsAtStripe(stripe, invoice: first).count == 1)
        let rerun = try await Self.finishedRun(live, slot: try await Self.queueCapture(live))
        #expect(rerun["state"] as? String == "succeeded")
        #expect(try await Self.intentsAtStripe(stripe, invoice: second).count == 1)
        #expect(try await Self.payments(live, invoice: second).count == 1)

        // Removing the card detaches it at Stripe; the job then has nothing to charge.
        let removed = try await client.send("DELETE", "/api/v1/me/payment-methods/\(cardID)")
        #expect(removed.status == 204, "\(removed.body)")
        #expect(try await stripe.request("GET", "/v1/payment_methods/\(cardID)", form: nil).json["customer"] is NSNull)
        #expect((try await client.get("/api/v1/me/payment-methods").json["items"] as? [Any])?.isEmpty == true)
        let (_, third) = try await live.order(client)
        _ = try await Self.finishedRun(live, slot: try await Self.queueCapture(live))
        #expect(try await Self.intentsAtStripe(stripe, invoice: third).isEmpty)
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(third)").json["status"] as? String == "unpaid")
    }

    @Test func aDeclinedCaptureEmailsTheClientOnceAndWaitsForItsRetry() async throws {
        let setup = try await Self.start("stripedecl")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let client = try await live.client()
        // 4000000000000341: attaches, then every charge is declined (localstripe, as Stripe).
        _ = try await Self.saveCard("4000000000000341", client: client, stripe: stripe)
        let (_, invoice) = try await live.order(client)
        let run = try await Self.finishedRun(live, slot: try await Self.queueCapture(live))
        #expect(run["state"] as? String == "succeeded", "\(run)")
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["status"] as? String == "unpaid")
        #expect(try await Self.payments(live, invoice: invoice).isEmpty)
        let charges = stripe.log().components(separatedBy: "\"POST /v1/payment_intents HTTP").count - 1
        #expect(charges == 1, "\(stripe.tailOfLog())")

        let number = try #require(try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json["number"] as? String)
        func failureMails() async throws -> [[String: Any]] {
            let outbox = try await live.staff.get("/api/v1/admin/mail/outbox?limit=200").json["items"] as? [[String: Any]] ?? []
            return outbox.filter { $0["template"] as? String == "payment_failed" && ($0["subject"] as? String)?.contains(number) == true }
        }
        let mails = try await failureMails()
        #expect(mails.count == 1, "\(mails)")
        // Staff see the failed attempt and Stripe's reason on the invoice page.
        let adminPage = try await live.staff.get("/admin/invoices/\(invoice)").body
        #expect(adminPage.contains("Automatic capture") && adminPage.contains("declined"), "\(adminPage.prefix(3000))")

        // The next run is before the retry delay (1d): Stripe is not asked, no second e-mail.
        _ = try await Self.finishedRun(live, slot: try await Self.queueCapture(live))
        #expect(stripe.log().components(separatedBy: "\"POST /v1/payment_intents HTTP").count - 1 == charges)
        #expect(try await failureMails().count == 1)
    }

    /// The capture job's node dies (SIGKILL) right after localstripe created and charged the
    /// PaymentIntent and before the node could record it. Another node takes the run over, finds
    /// the charge for that invoice and attempt at Stripe, and records it: one payment, one
    /// charge, the invoice paid once.
    @Test func theCaptureNodeKilledAfterStripeChargedIsRecordedOnceByTheRetry() async throws {
        let setup = try await Self.start("stripekill")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        let staff = live.staff.pointed(at: live.node(1).baseURL)
        let client = try await live.client()
        _ = try await Self.saveCard("4242424242424242", client: client, stripe: stripe)
        let (_, invoice) = try await live.order(client)

        let victim = live.node(0)
        try await stripe.killAfter(method: "POST", path: "/v1/payment_intents", pid: victim.process.pid)
        let slot = try await Self.queueCapture(live)
        _ = try await victim.process.waitForExit(timeout: .seconds(60))
        // Stripe took the money; the portal has not recorded it.
        let charged = try await Self.intentsAtStripe(stripe, invoice: invoice)
        #expect(charged.count == 1 && charged.first?["status"] as? String == "succeeded", "\(charged)")
        #expect(try await Self.payments(live, invoice: invoice).isEmpty)
        #expect(try await staff.get("/api/v1/admin/invoices/\(invoice)").json["status"] as? String == "unpaid")

        // A node with a scheduler comes up and takes the dead node's run over.
        let successor = try await live.startAnotherNode(name: "stripekill-c")
        defer { successor.process.send(SIGKILL) }
        let run = try await Self.finishedRun(live, slot: slot, timeout: .seconds(90))
        #expect(run["state"] as? String == "succeeded", "\(run)")
        #expect((run["fencing_token"] as? Int ?? 0) >= 2, "taken over: \(run)")
        let recorded = try await Self.payments(live, invoice: invoice)
        #expect(recorded.count == 1, "\(recorded)")
        #expect(recorded.first?["transaction_id"] as? String == charged.first?["id"] as? String)
        #expect(try await Self.intentsAtStripe(stripe, invoice: invoice).count == 1)
        #expect(stripe.log().components(separatedBy: "\"POST /v1/payment_intents HTTP").count - 1 == 1, "\(stripe.tailOfLog())")
        let state = try await staff.get("/api/v1/admin/invoices/\(invoice)").json
        #expect(state["status"] as? String == "paid" && state["amount_paid"] as? Int == state["total"] as? Int, "\(state)")
        // And again: nothing more.
        _ = try await Self.finishedRun(live, slot: try await Self.queueCapture(live))
        #expect(try await Self.payments(live, invoice: invoice).count == 1)
        #expect(try await Self.intentsAtStripe(stripe, invoice: invoice).count == 1)
    }

    /// `payment_intent.payment_failed` end to end: the client's card is declined at Stripe (here
    /// localstripe) after the portal created the PaymentIntent; localstripe signs and delivers the
    /// event to node 1, which marks the intent failed on the invoice; a later payment with another
    /// card wins; a dispute then shows on the client's and the staff's invoice.
    @Test func aDeclineReportedByStripesOwnWebhookShowsOnTheInvoiceAndALaterPaymentWins() async throws {
        let setup = try await Self.start("stripefail")
        defer { setup.stop() }
        let (stripe, live) = (setup.stripe, setup.live)
        try await stripe.registerWebhook(url: live.node(1).baseURL + "/api/v1/gateways/stripe/webhook", secret: Self.webhookSecret)
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let pending = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(pending.status == 202, "\(pending.body)")
        let failedIntent = try #require(pending.json["payment_intent"] as? String)
        // The card page confirms with a card that is declined when charged.
        let declining = try await stripe.paymentMethod(card: "4000000000000341")
        _ = try await stripe.request("POST", "/v1/payment_intents/\(failedIntent)", form: [("payment_method", declining)])
        let declined = try await stripe.request("POST", "/v1/payment_intents/\(failedIntent)/confirm", form: [])
        #expect(declined.status == 402, "\(declined.json)")

        func cardPayments(_ who: HTTPTestClient, _ path: String) async throws -> [[String: Any]] {
            try await who.get(path).json["card_payments"] as? [[String: Any]] ?? []
        }
        let marked = try await eventually(timeout: .seconds(20), interval: .milliseconds(100)) {
            try await cardPayments(client, "/api/v1/invoices/\(invoice)").first { $0["payment_intent"] as? String == failedIntent }?["status"] as? String == "failed"
        }
        #expect(marked, "payment_failed not applied: \(stripe.tailOfLog())")
        // localstripe logs the delivery only once the node has answered, which can be after the
        // node's change shows on the invoice: wait (bounded) until it says so.
        try await waitUntil("localstripe logged its payment_intent.payment_failed delivery: \(stripe.tailOfLog())", timeout: .seconds(20)) {
            stripe.log().contains("webhook \"payment_intent.payment_failed\" successfully delivered")
        }
        #expect(try await client.get("/api/v1/invoices/\(invoice)").json["status"] as? String == "unpaid")
        #expect(try await Self.payments(live, invoice: invoice).isEmpty)

        // The client pays again with another card: paid; the failed intent stays failed.
        let paid = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "stripe", "payment_method": "pm_card_visa"], headers: ["Idempotency-Key": UUID().uuidString])
        #expect(paid.status == 200 && paid.json["result"] as? String == "paid", "\(paid.body)")
        let paidIntent = try #require(paid.json["payment_intent"] as? String)
        let statuses = try await cardPayments(client, "/api/v1/invoices/\(invoice)").reduce(into: [String: String]()) {
            $0[$1["payment_intent"] as? String ?? ""] = $1["status"] as? String
        }
        #expect(statuses == [failedIntent: "failed", paidIntent: "succeeded"], "\(statuses)")
        #expect(try await Self.payments(live, invoice: invoice).count == 1)

        // A dispute of the paid charge shows on both sides' invoice.
        let intent = try await stripe.request("GET", "/v1/payment_intents/\(paidIntent)", form: nil).json
        let charge = try #require(((intent["charges"] as? [String: Any])?["data"] as? [[String: Any]])?.first?["id"] as? String)
        let dispute = try StripeLiveTests.signedEvent(type: "charge.dispute.created", object: [
            "id": "dp_steadfast_1", "object": "dispute", "amount": intent["amount"] as? Int ?? 0, "currency": "eur", "charge": charge, "reason": "fraudulent",
        ])
        let answer = try await live.node(1).client().send("POST", "/api/v1/gateways/stripe/webhook", headers: ["Content-Type": "application/json", "Stripe-Signature": dispute.signature], body: dispute.body)
        #expect(answer.status == 200 && answer.json["result"] as? String == "disputed", "\(answer.body)")
        // Stripe's webhooks come in any order: a late payment_intent.succeeded (a new event id,
        // so not a replay) records nothing more and does not hide the dispute.
        let late = try StripeLiveTests.signedEvent(type: "payment_intent.succeeded", object: intent)
        let lateAnswer = try await live.node(0).client().send("POST", "/api/v1/gateways/stripe/webhook", headers: ["Content-Type": "application/json", "Stripe-Signature": late.signature], body: late.body)
        #expect(lateAnswer.status == 200, "\(lateAnswer.body)")
        #expect(try await Self.payments(live, invoice: invoice).count == 1)
        let shown = try await cardPayments(client, "/api/v1/invoices/\(invoice)").first { $0["payment_intent"] as? String == paidIntent }
        #expect(shown?["status"] as? String == "disputed" && shown?["dispute_id"] as? String == "dp_steadfast_1", "\(String(describing: shown))")
        let staffView = try await cardPayments(live.staff, "/api/v1/admin/invoices/\(invoice)").first { $0["payment_intent"] as? String == paidIntent }
        #expect(staffView?["dispute_id"] as? String == "dp_steadfast_1")
        // And on the HTML invoice pages.
        let page = try await client.get("/clientarea/invoices/\(invoice)").body
        #expect(page.contains("Card payments") && page.contains(paidIntent) && page.contains("dp_steadfast_1") && page.contains(failedIntent), "\(page.prefix(3000))")
        let adminPage = try await live.staff.get("/admin/invoices/\(invoice)").body
        #expect(adminPage.contains("dp_steadfast_1") && adminPage.contains(failedIntent))
    }
}
