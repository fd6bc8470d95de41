import Foundation
import SteadfastTestSupport
import Testing

/// The public store and invoices as documents (issue 16, items 4 and 5) on two real nodes
/// sharing one PostgreSQL: a visitor fills a cart on node A, sees it on node B, registers and
/// finds it in their account; review, order, confirmation, the order list, and the invoice PDF
/// (headless Chromium) with the seller staff set.
@Suite(.serialized) struct StoreAndDocumentsLiveTests {
    static func csrf(_ page: HTTPTestClient.Response) throws -> String {
        try #require(page.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1).description
    }

    /// On PostgreSQL two nodes; on SQLite the same journey on one node.
    @Test(arguments: BillingLive.Engine.allCases)
    func aVisitorsCartCrossesNodesAndFollowsThemIntoTheirAccount(_ engine: BillingLive.Engine) async throws {
        let live = try await BillingLive.start(engine, name: "store")
        defer { live.stop() }
        let company = try await live.staff.send(
            "PUT", "/api/v1/admin/company", headers: ["Content-Type": "application/json"],
            body: Array(#"{"legal_name":"Steadfast Hosting GmbH","address":"Hauptstraße 1\n10115 Berlin","tax_id":"DE811907980","bank_details":"IBAN DE89 3704 0044 0532 0130 00"}"#.utf8)
        )
        #expect(company.status == 200 && company.json["legal_name"] as? String == "Steadfast Hosting GmbH")

        // A visitor browses and fills a cart on node A.
        let visitorA = live.nodes[0].client()
        let store = try await visitorA.get("/store")
        #expect(store.status == 200 && store.body.contains("Web hosting"))
        let catalogue = try await visitorA.get("/api/v1/catalogue")
        #expect(catalogue.status == 200 && catalogue.body.contains("Web hosting"))
        let added = try await visitorA.postForm("/cart/items", ["_csrf": try Self.csrf(store), "product_id": live.productID, "cycle": "monthly"])
        #expect(added.status == 303 && added.setCookies.contains { $0.hasPrefix("steadfast_cart=") })
        // Node B serves the same cart (the cookie's hash keys the database rows).
        let visitorB = visitorA.pointed(at: live.node(1).baseURL)
        let cart = try await visitorB.get("/cart")
        #expect(cart.status == 200 && cart.body.contains("Web hosting") && cart.body.contains("EUR 17.85"))
        // Without the cookie there is no cart, and checking out needs an account.
        let stranger = live.node(1).client()
        #expect(try await stranger.get("/cart").body.contains("Your cart is empty"))
        let checkout = try await visitorB.postForm("/cart/checkout", ["_csrf": try Self.csrf(cart)])
        #expect(checkout.status == 303 && checkout.header("Location")?.hasPrefix("/login") == true)

        // They register and log in on node B: the cart is in their account.
        let email = "visitor-\(UUID().uuidString.prefix(8))@example.com"
        #expect(try await visitorB.postJSON("/api/v1/auth/register", ["email": email, "password": BillingLive.password, "name": "Vera Visitor"]).status == 201)
        #expect(try await visitorB.postJSON("/api/v1/auth/login", ["email": email, "password": BillingLive.password]).status == 200)
        let claimed = try await visitorB.get("/api/v1/cart")
        #expect(claimed.status == 200 && (claimed.json["items"] as? [[String: Any]])?.count == 1)
        #expect(claimed.setCookies.contains { $0.hasPrefix("steadfast_cart=;") || $0.hasPrefix("steadfast_cart=\"\"") || $0.contains("Max-Age=0") })
        #expect((try await visitorA.get("/api/v1/cart").json["items"] as? [[String: Any]])?.count == 1) // moved once, not twice

        // Review, place, confirmation, the order list (page and JSON), on node A.
        let review = try await visitorA.get("/cart/review")
        #expect(review.status == 200 && review.body.contains("Review your order") && review.body.contains("Vera Visitor"))
        let key = try #require(review.body.firstMatch(of: /name="idempotency_key" value="([^"]+)"/)?.1).description
        let placed = try await visitorA.postForm("/cart/checkout", ["_csrf": try Self.csrf(review), "idempotency_key": key])
        let confirmationPath = try #require(placed.header("Location"))
        #expect(placed.status == 303 && confirmationPath.hasSuffix("/confirmation"))
        let confirmation = try await visitorB.get(confirmationPath)
        let number = try #require(confirmation.body.firstMatch(of: /Invoice (INV-\d{4}-\d{6})/)?.1).description
        #expect(confirmation.status == 200 && confirmation.body.contains("Thank you for your order"))
        let orders = try await visitorA.get("/api/v1/orders")
        let order = try #require((orders.json["items"] as? [[String: Any]])?.first)
        let invoiceID = try #require(order["invoice_id"] as? String)
        let orderID = try #require(order["id"] as? String)
        #expect(confirmationPath == "/clientarea/orders/\(orderID)/confirmation")
        let list = try await visitorA.get("/clientarea/orders")
        #expect(list.status == 200 && list.body.contains("/clientarea/orders/\(orderID)") && list.body.contains("Web hosting")) // the list names what was ordered

        // The invoice as a PDF: the seller staff set, the buyer, the number.
        let pdf = try await visitorB.get("/api/v1/invoices/\(invoiceID)/pdf", timeout: .seconds(60))
        #expect(pdf.status == 200 && pdf.header("Content-Type") == "application/pdf")
        #expect(pdf.bytes.starts(with: Array("%PDF".utf8)))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-invoice-\(UUID().uuidString).pdf")
        try Data(pdf.bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let text = try await ProcessRunner.run(["pdftotext", "-layout", file.path, "-"], timeout: .seconds(30)).output
        #expect(text.contains(number) && text.contains("Steadfast Hosting GmbH") && text.contains("DE811907980") && text.contains("Vera Visitor"))
        #expect(text.contains("Balance due"))
        // Another client's invoice is not found, as a PDF too; staff may fetch any.
        let other = try await live.client("other")
        #expect(try await other.get("/api/v1/invoices/\(invoiceID)/pdf").status == 404)
        #expect(try await live.staff.get("/api/v1/admin/invoices/\(invoiceID)/pdf", timeout: .seconds(60)).status == 200)
        // The invoice page links to it.
        #expect(try await visitorA.get("/clientarea/invoices/\(invoiceID)/print").body.contains("Steadfast Hosting GmbH"))
        // Billing details refuse a country that is not ISO 3166-1, naming the field.
        let zz = try await visitorA.send("PUT", "/api/v1/billing-profile", headers: ["Content-Type": "application/json"], body: Array(#"{"country":"ZZ"}"#.utf8))
        #expect(zz.status == 400 && zz.error["field"] as? String == "country")
    }
}
