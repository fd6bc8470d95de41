import Foundation
import SteadfastTestSupport
import Testing

/// The billing API and pages end to end on one real node (SQLite).
@Suite(.serialized) struct BillingLiveTests {
    static func csrf(_ page: HTTPTestClient.Response) throws -> String {
        try #require(page.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1).description
    }

    static func field(_ name: String, in page: HTTPTestClient.Response) -> String? {
        let pattern = try! Regex<(Substring, Substring)>("name=\"\(name)\" value=\"([^\"]+)\"")
        return page.body.firstMatch(of: pattern).map { String($0.1) }
    }

    @Test func apiFlowWithClearErrors() async throws {
        let live = try await BillingLive.start(.sqlite, name: "api")
        defer { live.stop() }
        let client = try await live.client("anna")

        // Catalogue, cart and bad input.
        let catalogue = try await client.get("/api/v1/catalogue")
        #expect((catalogue.json["groups"] as? [[String: Any]])?.first?["name"] as? String == "Hosting")
        let wrongType = try await client.send("POST", "/api/v1/cart/items", headers: ["Content-Type": "text/plain"], body: Array("x".utf8))
        #expect(wrongType.status == 415)
        let missing = try await client.postJSON("/api/v1/cart/items", ["cycle": "monthly"])
        #expect(missing.status == 400 && missing.error["field"] as? String == "product_id")
        let badCycle = try await client.postJSON("/api/v1/cart/items", ["product_id": live.productID, "cycle": "weekly"])
        #expect(badCycle.status == 400 && badCycle.error["field"] as? String == "cycle")
        let badType = try await client.postJSON("/api/v1/cart/items", ["product_id": 42, "cycle": "monthly"])
        #expect(badType.status == 400 && badType.error["field"] as? String == "product_id")
        let unknown = try await client.postJSON("/api/v1/cart/items", ["product_id": UUID().uuidString, "cycle": "monthly"])
        #expect(unknown.status == 400 && unknown.error["field"] as? String == "product_id")
        #expect(try await client.postJSON("/api/v1/cart/checkout", [:]).status == 409) // empty cart

        let (order, invoice) = try await live.order(client)
        let detail = try await client.get("/api/v1/invoices/\(invoice)")
        #expect(detail.json["status"] as? String == "unpaid")
        #expect(detail.json["total"] as? Int == 1785) // (10.00 + 5.00) + 19% VAT
        #expect(detail.json["tax_rate"] as? String == "19%")
        #expect((detail.json["number"] as? String)?.hasSuffix("-000001") == true)
        #expect((detail.json["lines"] as? [[String: Any]])?.count == 2)
        #expect(try await client.get("/api/v1/orders/\(order)").json["status"] as? String == "pending")

        // Paying: key required, declines are 402, a reused key for another request is 422.
        let noKey = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa"])
        #expect(noKey.status == 400 && noKey.error["field"] as? String == "Idempotency-Key")
        let declined = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_declined"], headers: ["Idempotency-Key": "d1"])
        #expect(declined.status == 402 && declined.error["code"] as? String == "payment_declined")
        let part = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa", "amount": 785], headers: ["Idempotency-Key": "p1"])
        #expect(part.status == 200 && part.json["result"] as? String == "partially_paid")
        let reused = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa"], headers: ["Idempotency-Key": "p1"])
        #expect(reused.status == 422 && reused.error["code"] as? String == "idempotency_key_reused")
        let replay = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa", "amount": 785], headers: ["Idempotency-Key": "p1"])
        #expect(replay.body == part.body && replay.header("Idempotent-Replayed") == "true")
        let bank = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "banktransfer"], headers: ["Idempotency-Key": "b1"])
        #expect(bank.json["result"] as? String == "instructions")

        // Staff: an API token, a bank transfer recorded, a refund to credit, credit applied.
        let token = try await live.staff.postJSON("/api/v1/admin/api-tokens", ["name": "accounting"])
        #expect(token.status == 201)
        let bearer = try #require(token.json["token"] as? String)
        let robot = live.nodes[0].client()
        let headers = ["Authorization": "Bearer \(bearer)"]
        #expect(try await robot.get("/api/v1/admin/clients", headers: headers).status == 200)
        #expect(try await robot.get("/api/v1/admin/clients", headers: ["Authorization": "Bearer sft_nope"]).status == 401)
        let recorded = try await robot.postJSON("/api/v1/admin/invoices/\(invoice)/payments", ["amount": 1000, "transaction_id": "BANK-1"], headers: headers.merging(["Idempotency-Key": "s1"]) { $1 })
        #expect(recorded.status == 201 && recorded.json["result"] as? String == "paid")
        let twice = try await robot.postJSON("/api/v1/admin/invoices/\(invoice)/payments", ["amount": 1000, "transaction_id": "BANK-1"], headers: headers.merging(["Idempotency-Key": "s2"]) { $1 })
        #expect(twice.status == 409)
        #expect(try await client.get("/api/v1/orders/\(order)").json["status"] as? String == "accepted")
        #expect((try await client.get("/api/v1/services").json["items"] as? [[String: Any]])?.first?["status"] as? String == "active")

        let paymentID = try #require((recorded.json["payment"] as? [String: Any])?["id"] as? String)
        let refund = try await robot.postJSON("/api/v1/admin/payments/\(paymentID)/refund", ["amount": 300, "to_credit": true], headers: headers.merging(["Idempotency-Key": "r1"]) { $1 })
        #expect(refund.status == 201 && refund.json["to_credit"] as? Bool == true)
        #expect(try await client.get("/api/v1/credit").json["balance"] as? Int == 300)
        let clientID = try await client.get("/api/v1/me").json["id"] as! String
        let credit = try await robot.postJSON("/api/v1/admin/clients/\(clientID)/credit", ["amount": 200, "description": "Goodwill"], headers: headers.merging(["Idempotency-Key": "c1"]) { $1 })
        #expect(credit.status == 201 && credit.json["balance"] as? Int == 500)

        let draft = try await robot.postJSON("/api/v1/admin/invoices", ["client_id": clientID, "lines": [["description": "Migration", "amount": 2000]]], headers: headers)
        let draftID = try #require(draft.json["id"] as? String)
        #expect(try await client.get("/api/v1/invoices/\(draftID)").status == 404) // drafts are staff-only
        #expect(try await robot.postJSON("/api/v1/admin/invoices/\(draftID)/issue", [:], headers: headers).json["status"] as? String == "unpaid")
        let applied = try await client.postJSON("/api/v1/invoices/\(draftID)/apply-credit", [:], headers: ["Idempotency-Key": "a1"])
        #expect(applied.status == 200 && applied.json["result"] as? String == "partially_paid")
        #expect(try await client.get("/api/v1/credit").json["balance"] as? Int == 0)

        // Profile: tax follows the country.
        let profile = try await client.send("PUT", "/api/v1/billing-profile", headers: ["Content-Type": "application/json"], body: Array(#"{"country":"fr"}"#.utf8))
        #expect(profile.status == 200 && profile.json["country"] as? String == "FR")
        _ = try await client.postJSON("/api/v1/cart/items", ["product_id": live.productID, "cycle": "annually"])
        #expect(try await client.get("/api/v1/cart").json["tax"] as? Int == 0)

        // Revoked tokens stop working at once.
        let tokenID = try #require(token.json["id"] as? String)
        #expect(try await live.staff.send("DELETE", "/api/v1/admin/api-tokens/\(tokenID)", headers: ["Content-Type": "application/json"]).status == 204)
        #expect(try await robot.get("/api/v1/admin/clients", headers: headers).status == 401)
    }

    @Test func htmlPagesForClientsAndStaff() async throws {
        let live = try await BillingLive.start(.sqlite, name: "pages")
        defer { live.stop() }
        let client = try await live.client("bea")

        let store = try await client.get("/store")
        #expect(store.status == 200 && store.body.contains("Web hosting"))
        let csrf = try Self.csrf(store)
        let added = try await client.postForm("/cart/items", ["_csrf": csrf, "product_id": live.productID, "cycle": "monthly"])
        #expect(added.status == 303 && added.header("Location") == "/cart")
        let cart = try await client.get("/cart")
        #expect(cart.body.contains("EUR 17.85"))
        let key = try #require(Self.field("idempotency_key", in: cart))
        let placed = try await client.postForm("/cart/checkout", ["_csrf": csrf, "idempotency_key": key])
        #expect(placed.status == 303)
        let confirmationPath = try #require(placed.header("Location"))
        // A double-clicked "Place order" (same form key) places one order.
        #expect(try await client.postForm("/cart/checkout", ["_csrf": csrf, "idempotency_key": key]).header("Location") == confirmationPath)
        let confirmation = try await client.get(confirmationPath)
        let invoicePath = try #require(confirmation.body.firstMatch(of: /href="(\/clientarea\/invoices\/[0-9a-f-]{36})"/)?.1).description
        #expect((try await client.get("/api/v1/orders").json["items"] as? [[String: Any]])?.count == 1)

        let invoicePage = try await client.get(invoicePath)
        #expect(invoicePage.status == 200 && invoicePage.body.contains("Balance due") && invoicePage.body.contains("EUR 17.85"))
        let payKey = try #require(Self.field("idempotency_key", in: invoicePage))
        let pay = try await client.postForm(invoicePath + "/pay", ["_csrf": csrf, "gateway": "testcard", "idempotency_key": payKey])
        #expect(pay.status == 303)
        let checkoutPath = try #require(pay.header("Location"))
        #expect(checkoutPath.hasPrefix("/clientarea/checkouts/"))
        #expect(try await client.postForm(invoicePath + "/pay", ["_csrf": csrf, "gateway": "testcard", "idempotency_key": payKey]).header("Location") == checkoutPath)
        #expect(try await client.get(checkoutPath).body.contains("Test card payment"))
        let completed = try await client.postForm(checkoutPath, ["_csrf": csrf, "outcome": "pay"])
        #expect(completed.status == 303 && completed.header("Location") == invoicePath)
        // The thank-you is a flash in the database session: shown once, after the redirect.
        let paidPage = try await client.get(invoicePath)
        #expect(paidPage.body.contains("paid") && paidPage.body.contains(#"<p class="flash flash-success" role="status">Thank you: your payment was received.</p>"#))
        #expect(try await !client.get(invoicePath).body.contains("payment was received"))
        let print = try await client.get(invoicePath + "/print")
        #expect(print.status == 200 && print.body.contains("Invoice INV-") && !print.body.contains("<nav"))
        #expect(try await client.postForm(invoicePath + "/pay", ["gateway": "testcard", "idempotency_key": "x"]).status == 403) // no CSRF token

        for path in ["/clientarea", "/clientarea/services", "/clientarea/invoices", "/clientarea/credit", "/clientarea/billing-profile"] {
            #expect(try await client.get(path).status == 200, "\(path)")
        }
        let saved = try await client.postForm("/clientarea/billing-profile", ["_csrf": csrf, "country": "us", "region": "ny"])
        #expect(saved.status == 303)
        let badCountry = try await client.postForm("/clientarea/billing-profile", ["_csrf": csrf, "country": "USA"])
        #expect(badCountry.status == 400 && badCountry.body.contains("two-letter"))

        // Staff pages.
        let staff = live.staff
        let admin = try await staff.get("/admin")
        #expect(admin.status == 200)
        let staffCSRF = try Self.csrf(admin)
        let clients = try await staff.get("/admin/clients")
        #expect(clients.body.contains("bea"))
        let clientID = try #require(clients.body.firstMatch(of: /href="\/admin\/clients\/([0-9a-f-]{36})"/)?.1).description
        let invoiceID = String(invoicePath.split(separator: "/").last!)
        let productID = live.productID
        let orderID = try #require((try await client.get("/api/v1/orders").json["items"] as? [[String: Any]])?.first?["id"] as? String)
        for path in [
            "/admin/clients/\(clientID)", "/admin/products", "/admin/products/\(productID)", "/admin/orders", "/admin/orders/\(orderID)",
            "/admin/services", "/admin/invoices", "/admin/invoices?status=paid", "/admin/invoices/\(invoiceID)", "/admin/invoices/\(invoiceID)/print",
            "/admin/payments", "/admin/api-tokens",
        ] {
            let page = try await staff.get(path)
            #expect(page.status == 200, "\(path) answered \(page.status)")
        }
        // The product list sorts by its headings, filters by state, and refuses what it does not offer.
        let byStock = try await staff.get("/admin/products?state=on_sale&sort=stock&dir=asc")
        #expect(byStock.status == 200 && byStock.body.contains("aria-sort=\"ascending\"") && byStock.body.contains("/admin/products/\(productID)"))
        #expect(try await staff.get("/admin/products?state=retired").body.contains("No retired products."))
        #expect(try await staff.get("/admin/products?sort=price").status == 400)
        #expect(try await staff.get("/admin/products?state=gone").status == 400)
        let apiProducts = try await staff.get("/api/v1/admin/products?sort=name&dir=desc&limit=1")
        #expect(apiProducts.status == 200 && (apiProducts.json["items"] as? [Any])?.count == 1 && apiProducts.json["limit"] as? Int == 1)
        #expect(try await staff.get("/api/v1/admin/products?dir=sideways").status == 400)
        // The token list too: sorted by a heading, filtered by state, 400 for what it does not offer.
        #expect(try await staff.postJSON("/api/v1/admin/api-tokens", ["name": "accounting"]).status == 201)
        let doomed = try await staff.postJSON("/api/v1/admin/api-tokens", ["name": "doomed"])
        let doomedID = try #require(doomed.json["id"] as? String)
        #expect(try await staff.send("DELETE", "/api/v1/admin/api-tokens/\(doomedID)", headers: ["Content-Type": "application/json"]).status == 204)
        let tokensByName = try await staff.get("/admin/api-tokens?state=active&sort=name&dir=desc")
        #expect(tokensByName.status == 200 && tokensByName.body.contains("aria-sort=\"descending\"") && tokensByName.body.contains("accounting"))
        #expect(try await staff.get("/admin/api-tokens?state=expired").body.contains("No expired API tokens."))
        #expect(try await staff.get("/admin/api-tokens?sort=token_hash").status == 400)
        #expect(try await staff.get("/admin/api-tokens?state=lost").status == 400)
        let apiTokens = try await staff.get("/api/v1/admin/api-tokens?state=revoked&sort=used&dir=asc&limit=1")
        #expect(apiTokens.status == 200 && ((apiTokens.json["items"] as? [[String: Any]])?.map { $0["id"] as? String }) == [doomedID] && apiTokens.json["limit"] as? Int == 1)
        #expect(!(try await staff.get("/admin/api-tokens?state=active").body.contains("doomed")))
        #expect(try await staff.get("/api/v1/admin/api-tokens?sort=secret").status == 400)
        let draft = try await staff.postForm("/admin/invoices", ["_csrf": staffCSRF, "client_id": clientID, "description": "Consulting", "amount": "120.50"])
        #expect(draft.status == 303)
        let draftPath = try #require(draft.header("Location"))
        #expect(try await staff.postForm(draftPath + "/issue", ["_csrf": staffCSRF]).status == 303)
        let issued = try await staff.get(draftPath)
        #expect(issued.body.contains("unpaid") && issued.body.contains("EUR 120.50")) // the client moved to New York: no rule, no tax
        let payKeyStaff = try #require(Self.field("idempotency_key", in: issued))
        #expect(try await staff.postForm(draftPath + "/payments", ["_csrf": staffCSRF, "amount": "120.50", "idempotency_key": payKeyStaff]).status == 303)
        #expect(try await staff.get(draftPath).body.contains(">paid<"))
        let badAmount = try await staff.postForm("/admin/invoices", ["_csrf": staffCSRF, "client_id": clientID, "description": "x", "amount": "12.345"])
        #expect(badAmount.status == 400)
        let run = try await staff.postForm("/admin/billing/run", ["_csrf": staffCSRF])
        #expect(run.status == 200 && run.body.contains("Renewal invoices"))
        #expect(try await client.get("/admin/invoices").status == 403)
    }
}
