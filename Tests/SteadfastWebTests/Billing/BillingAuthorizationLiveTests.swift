import Foundation
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// Object-level authorisation: a second client walking every client-facing route (API and
/// HTML) with the first client's ids gets 404 — never 200, and never 403, which would reveal
/// that the object exists — and changes nothing.
@Suite(.serialized) struct BillingAuthorizationLiveTests {
    /// What kind of object a route's `{id}` names.
    enum Owned: String { case order, invoice, service, payment, checkout, cartItem, file, session, ticket, attachment }

    /// Every client route that takes an object id, with what it needs.
    static let walk: [(method: String, path: String, owned: Owned)] = [
        ("GET", "/api/v1/orders/{id}", .order),
        ("GET", "/api/v1/services/{id}", .service),
        ("GET", "/api/v1/invoices/{id}", .invoice),
        ("POST", "/api/v1/invoices/{id}/pay", .invoice),
        ("POST", "/api/v1/invoices/{id}/apply-credit", .invoice),
        ("GET", "/api/v1/invoices/{id}/pdf", .invoice),
        ("GET", "/api/v1/checkouts/{id}", .checkout),
        ("GET", "/api/v1/payments/{id}", .payment),
        ("DELETE", "/api/v1/cart/items/{id}", .cartItem),
        ("GET", "/clientarea/orders/{id}", .order),
        ("GET", "/clientarea/orders/{id}/confirmation", .order),
        ("GET", "/clientarea/services/{id}", .service),
        ("GET", "/clientarea/invoices/{id}", .invoice),
        ("GET", "/clientarea/invoices/{id}/print", .invoice),
        ("POST", "/clientarea/invoices/{id}/pay", .invoice),
        ("POST", "/clientarea/invoices/{id}/apply-credit", .invoice),
        // The card page (stripe gateway): 404 here without it; StripeLiveTests walks both as another client with it.
        ("POST", "/clientarea/invoices/{id}/card", .invoice),
        ("POST", "/clientarea/invoices/{id}/card/return", .invoice),
        ("GET", "/clientarea/checkouts/{id}", .checkout),
        ("POST", "/clientarea/checkouts/{id}", .checkout),
        ("POST", "/cart/items/{id}/delete", .cartItem),
        ("GET", "/api/v1/files/{id}", .file),
        ("GET", "/api/v1/files/{id}/content", .file),
        ("GET", "/api/v1/files/{id}/link", .file),
        ("DELETE", "/api/v1/files/{id}", .file),
        ("DELETE", "/api/v1/me/sessions/{id}", .session),
        ("POST", "/account/sessions/{id}/end", .session),
        // Tickets (docs/support.md); `{attachment_id}` is filled with the ticket's attachment.
        ("GET", "/api/v1/tickets/{id}", .ticket),
        ("POST", "/api/v1/tickets/{id}/replies", .ticket),
        ("POST", "/api/v1/tickets/{id}/close", .ticket),
        ("GET", "/api/v1/tickets/{id}/attachments/{attachment_id}/content", .ticket),
        ("GET", "/clientarea/tickets/{id}", .ticket),
        ("GET", "/clientarea/tickets/{id}/attachments/{attachment_id}", .ticket),
    ]

    /// Routes with ids that are not a client's own objects: staff areas, the public catalogue,
    /// the gateway, and signed download links (the signature, not a session, authorises them).
    static func isClientObjectRoute(_ path: String) -> Bool {
        path.contains("{") && !path.hasPrefix("/api/v1/admin/") && !path.hasPrefix("/admin/") && !path.hasPrefix("/api/v1/gateways/")
            && path != "/api/v1/catalogue/products/{id}" && !path.hasPrefix("/files/{target}/")
            // Reset and verification links: the token in the path is the authorisation (docs/accounts.md).
            && !path.hasPrefix("/password-reset/") && !path.hasPrefix("/verify-email/")
            && !path.hasPrefix("/invitations/")
            // A client's users: another client's user id is 404 for the owner (ClientUsersTests,
            // onlyTheOwnerManagesUsersAndRemovalEndsEverything) and every user is 403 (ClientUsersLiveTests).
            && !path.hasPrefix("/api/v1/me/users/") && !path.hasPrefix("/account/users/")
            // Published content: not a client's own objects; ContentLiveTests walks who sees what (docs/content.md).
            && !["/api/v1/announcements/", "/api/v1/kb/", "/api/v1/downloads/", "/announcements/", "/knowledgebase/", "/downloads/"].contains(where: path.hasPrefix)
            // Saved cards need the stripe gateway (localstripe): StripeCaptureLiveTests walks them as another client.
            && !path.hasPrefix("/api/v1/me/payment-methods/") && !path.hasPrefix("/clientarea/payment-methods/")
            // The portal's stylesheet and script, the same for everyone.
            && path != "/assets/{file}"
    }

    @Test func theWalkCoversEveryClientRouteThatTakesAnID() async throws {
        let routes = try await PortalRouter.registeredRoutes().filter { Self.isClientObjectRoute($0.path) }
        let walked = Set(Self.walk.map { "\($0.method) \($0.path)" })
        #expect(Set(routes.map(\.description)) == walked)
    }

    @Test func anotherClientsObjectsAreNotFoundOnEveryRoute() async throws {
        let live = try await BillingLive.start(.sqlite, name: "authz")
        defer { live.stop() }
        var ids: [String: [Owned: String]] = [:]
        var clients: [String: HTTPTestClient] = [:]
        let department = try await live.staff.postJSON("/api/v1/admin/support/departments", ["name": "Support", "email": "support@example.com", "public": true])
        let departmentID = try #require(department.json["id"] as? String, "\(department.status) \(department.body)")
        for name in ["alice", "bob"] {
            let client = try await live.client(name)
            clients[name] = client
            let paid = try await live.order(client)
            try await live.pay(client, invoice: paid.invoice)
            let open = try await live.order(client)
            let pending = try await client.postJSON("/api/v1/invoices/\(open.invoice)/pay", ["gateway": "testcard"], headers: ["Idempotency-Key": "co-\(name)"])
            let cart = try await client.postJSON("/api/v1/cart/items", ["product_id": live.productID, "cycle": "annually"])
            let service = try await client.get("/api/v1/services").json["items"] as? [[String: Any]]
            let payment = try await client.get("/api/v1/payments").json["items"] as? [[String: Any]]
            let session = try await client.get("/api/v1/me/sessions").json["sessions"] as? [[String: Any]]
            let file = try await client.send("POST", "/api/v1/files", headers: ["Content-Type": "text/plain", "X-Upload-Filename": "\(name).txt"], body: Array("private to \(name)".utf8))
            let upload = try await client.send("POST", "/api/v1/tickets/attachments", headers: ["Content-Type": "text/plain", "X-Upload-Filename": "\(name)-log.txt"], body: Array("log of \(name)".utf8))
            let attachment = upload.json["id"] as? String ?? ""
            let ticket = try await client.postJSON("/api/v1/tickets", [
                "department_id": departmentID, "subject": "Help \(name)", "message": "Private to \(name)", "priority": "medium", "attachments": [attachment],
            ])
            ids[name] = [
                .ticket: ticket.json["id"] as? String ?? "", .attachment: attachment,
                .file: file.json["id"] as? String ?? "",
                .order: paid.order, .invoice: open.invoice, .service: service?.first?["id"] as? String ?? "",
                .payment: payment?.first?["id"] as? String ?? "", .checkout: (pending.json["checkout"] as? [String: Any])?["id"] as? String ?? "",
                .cartItem: (cart.json["items"] as? [[String: Any]])?.first?["id"] as? String ?? "",
                .session: session?.first?["id"] as? String ?? "",
            ]
        }
        let alice = try #require(ids["alice"])
        #expect(alice.values.allSatisfy { UUID(uuidString: $0) != nil })
        let bob = try #require(clients["bob"])
        // Bob needs a CSRF token for his HTML form posts (a valid one: the 404 must come from the object check).
        let page = try await bob.get("/clientarea/invoices")
        let csrf = try #require(page.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1).description

        for route in Self.walk {
            let path = route.path.replacingOccurrences(of: "{id}", with: alice[route.owned]!)
                .replacingOccurrences(of: "{attachment_id}", with: alice[.attachment]!)
            let response: HTTPTestClient.Response
            switch (route.method, path.hasPrefix("/api/")) {
            case ("GET", _):
                response = try await bob.get(path)
            case ("DELETE", _):
                response = try await bob.send("DELETE", path, headers: ["Content-Type": "application/json"])
            case (_, true):
                response = try await bob.postJSON(path, ["gateway": "testcard", "card_token": "tok_visa", "message": "from bob"], headers: ["Idempotency-Key": UUID().uuidString])
            default:
                response = try await bob.postForm(path, ["_csrf": csrf, "gateway": "testcard", "outcome": "pay", "idempotency_key": UUID().uuidString])
            }
            #expect(response.status == 404, "\(route.method) \(route.path) answered \(response.status) to another client")
            #expect(!response.body.contains(alice[route.owned]!), "\(route.method) \(route.path) leaked the id: \(response.body.prefix(300))")
        }

        // Bob's lists show none of Alice's things.
        for list in ["/api/v1/orders", "/api/v1/services", "/api/v1/invoices", "/api/v1/payments", "/api/v1/credit", "/api/v1/cart", "/api/v1/files", "/api/v1/tickets", "/clientarea/invoices", "/clientarea/services", "/clientarea/tickets"] {
            let body = try await bob.get(list).body
            for id in alice.values { #expect(!body.contains(id), "\(list) shows another client's \(id)") }
        }

        // Nothing of Alice's changed: her open invoice is unpaid, her checkout pending, her cart intact.
        let aliceClient = try #require(clients["alice"])
        #expect(try await aliceClient.get("/api/v1/invoices/\(alice[.invoice]!)").json["status"] as? String == "unpaid")
        #expect(try await aliceClient.get("/api/v1/checkouts/\(alice[.checkout]!)").json["status"] as? String == "pending")
        #expect((try await aliceClient.get("/api/v1/cart").json["items"] as? [[String: Any]])?.count == 1)
        #expect(try await aliceClient.get("/api/v1/files/\(alice[.file]!)/content").body == "private to alice")
        let aliceTicket = try await aliceClient.get("/api/v1/tickets/\(alice[.ticket]!)")
        #expect(aliceTicket.status == 200 && (aliceTicket.json["ticket"] as? [String: Any])?["status"] as? String == "open" && !aliceTicket.body.contains("from bob"), "\(aliceTicket.status) \(aliceTicket.body.prefix(300))")
        #expect(try await aliceClient.get("/api/v1/tickets/\(alice[.ticket]!)/attachments/\(alice[.attachment]!)/content").body == "log of alice")
        #expect((try await aliceClient.get("/api/v1/me/sessions").json["sessions"] as? [[String: Any]])?.contains { $0["id"] as? String == alice[.session]! } == true)
        // And she can still reach all of it herself.
        #expect(try await aliceClient.get("/clientarea/invoices/\(alice[.invoice]!)/print").status == 200)
        #expect(try await aliceClient.get("/clientarea/services/\(alice[.service]!)").status == 200)

        // Clients are kept out of the staff API and pages; visitors must log in.
        #expect(try await bob.get("/api/v1/admin/invoices").status == 403)
        #expect(try await bob.get("/admin/invoices").status == 403)
        #expect(try await live.nodes[0].client().get("/api/v1/invoices").status == 401)
        #expect(try await live.nodes[0].client().get("/clientarea/invoices").status == 303)
    }
}
