import Foundation
import SteadfastServices
import SteadfastTestSupport
import Testing

/// Exactly-once under concurrency, on real nodes: two `steadfast serve` processes on one real
/// PostgreSQL, and the same suite on one SQLite node. Requests are spread across the nodes the
/// way a load balancer would after retries and failovers.
@Suite(.serialized) struct BillingConcurrencyLiveTests {
    @Test(arguments: BillingLive.Engine.allCases)
    func fiftyConcurrentPaymentsWithOneKeyPayOnceAndAnswerIdentically(_ engine: BillingLive.Engine) async throws {
        let live = try await BillingLive.start(engine, name: "pay50")
        defer { live.stop() }
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let key = UUID().uuidString
        let responses = try await withThrowingTaskGroup(of: (Int, String, Bool).self) { group in
            for i in 0..<50 {
                let onNode = client.pointed(at: live.node(i).baseURL)
                group.addTask {
                    let response = try await onNode.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa"], headers: ["Idempotency-Key": key])
                    return (response.status, response.body, response.header("Idempotent-Replayed") == "true")
                }
            }
            return try await group.reduce(into: [(Int, String, Bool)]()) { $0.append($1) }
        }
        #expect(responses.count == 50)
        #expect(Set(responses.map(\.0)) == [200])
        #expect(Set(responses.map(\.1)).count == 1, "every answer must be byte-identical")
        #expect(responses.filter { !$0.2 }.count == 1, "exactly one request did the work")
        let payments = try await live.all("/api/v1/admin/payments").filter { $0["invoice_id"] as? String == invoice }
        #expect(payments.count == 1)
        let state = try await live.staff.get("/api/v1/admin/invoices/\(invoice)").json
        #expect(state["status"] as? String == "paid")
        #expect(state["amount_paid"] as? Int == state["total"] as? Int)
    }

    @Test(arguments: BillingLive.Engine.allCases)
    func theSameWebhookDeliveredTwentyTimesRecordsOnePayment(_ engine: BillingLive.Engine) async throws {
        let live = try await BillingLive.start(engine, name: "hook20")
        defer { live.stop() }
        let client = try await live.client()
        let (_, invoice) = try await live.order(client)
        let pending = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard"], headers: ["Idempotency-Key": "checkout-1"])
        #expect(pending.status == 202)
        let checkout = try #require(pending.json["checkout"] as? [String: Any])
        let gateway = TestCardGateway(secret: BillingLive.webhookSecret)
        let signed = try gateway.signedEvent(.init(
            type: "payment.succeeded", checkoutID: checkout["id"] as! String, transactionID: "tc_live_\(UUID().uuidString.prefix(8))",
            amount: Int64(checkout["amount"] as! Int), currency: checkout["currency"] as! String
        ))
        // A forged or missing signature is refused.
        let provider = live.nodes[0].client()
        let forged = try await provider.send("POST", "/api/v1/gateways/testcard/webhook", headers: ["Content-Type": "application/json", "X-Signature": "sha256=" + String(repeating: "0", count: 64)], body: signed.body)
        #expect(forged.status == 401)
        #expect(forged.error["code"] as? String == "bad_signature")
        let unsigned = try await provider.send("POST", "/api/v1/gateways/testcard/webhook", headers: ["Content-Type": "application/json"], body: signed.body)
        #expect(unsigned.status == 401)

        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<20 {
                let sender = live.node(i).client()
                group.addTask {
                    let response = try await sender.send("POST", "/api/v1/gateways/testcard/webhook", headers: ["Content-Type": "application/json", "X-Signature": signed.signature], body: signed.body)
                    return (response.status, response.body)
                }
            }
            return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
        }
        #expect(Set(answers.map(\.0)) == [200])
        #expect(Set(answers.map(\.1)).count == 1)
        let payments = try await live.all("/api/v1/admin/payments").filter { $0["invoice_id"] as? String == invoice }
        #expect(payments.count == 1)
        #expect(try await client.get("/api/v1/invoices/\(invoice)").json["status"] as? String == "paid")
        #expect(try await client.get("/api/v1/checkouts/\(checkout["id"] as! String)").json["status"] as? String == "completed")
    }

    @Test(arguments: BillingLive.Engine.allCases)
    func renewalRunsOnEveryNodeAtOnceMakeOneInvoicePerServiceAndPeriod(_ engine: BillingLive.Engine) async throws {
        // Services ordered today are due in a month: a 40-day lead puts them all in the window.
        // A 100-item checkout is one long transaction: give it more than the 2 s default bound,
        // which a loaded test machine can exceed (90 s on the database, 120 s on each request
        // that does a hundred items' work; a CI run beside other suites once took over 30 s for
        // one of them). The scheduled billing job is off: its hourly slot
        // once fell between the orders and the runs below (a CI run at 00:00) and invoiced the
        // first batch itself, so the runs made 100, not 200. The runs asked for here are the race.
        let live = try await BillingLive.start(engine, name: "renew200", settings: ["billing.renewal_lead_days=40", "database.timeout=90s", "jobs.enabled=false"])
        defer { live.stop() }
        var services: [String] = []
        for batch in 0..<2 {
            let client = try await live.client("batch\(batch)")
            // Give-up bounds, not timing targets: a hundred items in one checkout, a hundred
            // services activated by one payment, on a machine running other suites.
            let (_, invoice) = try await live.order(client, count: 100, timeout: .seconds(120))
            try await live.pay(client, invoice: invoice, timeout: .seconds(120))
            let listed = try await client.get("/api/v1/services?limit=200")
            services += (listed.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        #expect(services.count == 200)
        let issuedBefore = try await live.all("/api/v1/admin/invoices").count

        let reports = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<6 {
                let staff = live.staff.pointed(at: live.node(i).baseURL)
                group.addTask {
                    let run = try await staff.postJSON("/api/v1/admin/billing/run", ["task": "renewals"], timeout: .seconds(120))
                    guard run.status == 200 else { throw HarnessError("run failed: \(run.status) \(run.body)") }
                    return run.json["renewal_invoices"] as? Int ?? -1
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(reports.reduce(0, +) == 200, "the runs together made exactly 200 invoices: \(reports)")

        let invoices = try await live.all("/api/v1/admin/invoices")
        #expect(invoices.count == issuedBefore + 200)
        var perService: [String: Int] = [:]
        for summary in invoices where summary["order_id"] == nil || summary["order_id"] is NSNull {
            let invoice = try await live.staff.get("/api/v1/admin/invoices/\(summary["id"] as! String)").json
            for line in invoice["lines"] as? [[String: Any]] ?? [] where line["kind"] as? String == "renewal" {
                perService["\(line["service_id"] as? String ?? "")|\(line["period_start"] as? String ?? "")", default: 0] += 1
            }
        }
        #expect(perService.count == 200)
        #expect(perService.values.allSatisfy { $0 == 1 })
        // A later run changes nothing.
        let again = try await live.staff.postJSON("/api/v1/admin/billing/run", ["task": "all"], timeout: .seconds(120))
        #expect(again.json["renewal_invoices"] as? Int == 0)
    }

    @Test(arguments: BillingLive.Engine.allCases)
    func invoiceNumbersIssuedOnEveryNodeAtOnceAreUniqueAndGapFree(_ engine: BillingLive.Engine) async throws {
        let live = try await BillingLive.start(engine, name: "numbers")
        defer { live.stop() }
        var clientIDs: [String] = []
        var shoppers: [HTTPTestClient] = []
        for i in 0..<4 {
            let client = try await live.client("n\(i)")
            clientIDs.append(try await client.get("/api/v1/me").json["id"] as! String)
            _ = try await client.postJSON("/api/v1/cart/items", ["product_id": live.productID, "cycle": "monthly"])
            shoppers.append(client)
        }
        var drafts: [String] = []
        for i in 0..<40 {
            let draft = try await live.staff.postJSON("/api/v1/admin/invoices", [
                "client_id": clientIDs[i % clientIDs.count], "lines": [["description": "Consulting \(i)", "amount": 1000 + i]],
            ])
            #expect(draft.status == 201)
            drafts.append(draft.json["id"] as! String)
        }
        // Staff issue drafts on every node while clients check out (which issues too).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, draft) in drafts.enumerated() {
                let staff = live.staff.pointed(at: live.node(i).baseURL)
                group.addTask {
                    let issued = try await staff.postJSON("/api/v1/admin/invoices/\(draft)/issue", [:])
                    guard issued.status == 200 else { throw HarnessError("issue failed: \(issued.status) \(issued.body)") }
                }
            }
            for (i, shopper) in shoppers.enumerated() {
                let onNode = shopper.pointed(at: live.node(i + 1).baseURL)
                group.addTask {
                    let placed = try await onNode.postJSON("/api/v1/cart/checkout", [:])
                    guard placed.status == 201 else { throw HarnessError("checkout failed: \(placed.status) \(placed.body)") }
                }
            }
            try await group.waitForAll()
        }
        let numbers = try await live.all("/api/v1/admin/invoices").compactMap { $0["number"] as? String }
        #expect(numbers.count == 44)
        let sequence = numbers.compactMap { Int($0.split(separator: "-").last ?? "") }.sorted()
        #expect(sequence == Array(1...44), "numbers must be 1...44 without gaps: \(sequence)")
        #expect(Set(numbers.map { $0.split(separator: "-").dropLast().joined(separator: "-") }).count == 1)
    }
}
