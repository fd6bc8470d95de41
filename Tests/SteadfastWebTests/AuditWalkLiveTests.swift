import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// The audit trail, walked route by route through a real node on each engine (docs/accounts.md,
/// "Audit trail"): every route that is not a GET, read from the router, is either
///
/// - walked: its ``recipes`` entry sets up what the call needs (events written then are not
///   counted), the call succeeds, and exactly one event — the recipe's action — is written by it;
/// - a page twin (``pageTwins``): an HTML form whose handler calls the same service use case as
///   the named API route, which is walked (the event is written by the use case, not the handler);
/// - or exempt (``exempt``), with the reason written next to it.
///
/// A new route in none of these fails ``everyRouteIsWalkedTwinnedOrExempt``, so a route that
/// forgets its audit event cannot land unnoticed. Every route, walked or not, is also sent a
/// request that fails (a visitor or the wrong side, placeholder ids, an empty body) and must
/// write no event.
@Suite(.serialized) struct AuditWalkLiveTests {
    typealias Route = PortalRouter.RouteEntry

    /// Routes that are not walked for success here, and why.
    static let exempt: [String: String] = [
        // Stripe needs its fake (localstripe); these are walked by StripeAuditLiveTests.
        "POST /api/v1/gateways/stripe/webhook": "Stripe's webhook: StripeAuditLiveTests",
        "POST /api/v1/me/payment-methods": "saving a Stripe card: StripeAuditLiveTests",
        "DELETE /api/v1/me/payment-methods/{id}": "removing a Stripe card: StripeAuditLiveTests",
        "POST /clientarea/invoices/{id}/card/return": "the Stripe card page's return records the payment through the webhook's path: StripeAuditLiveTests",
        // No business state changes.
        "POST /api/v1/me/payment-methods/setup": "asks Stripe for a SetupIntent; stores nothing but the client's Stripe customer id (a cache of Stripe's)",
        "POST /clientarea/invoices/{id}/card": "renders Stripe's card page for a PaymentIntent (the pay API's pending path, walked as POST /api/v1/invoices/{id}/pay)",
    ]

    /// HTML forms whose handler calls the same use case as an API route walked here.
    static let pageTwins: [String: String] = [
        "POST /login": "POST /api/v1/auth/login",
        "POST /register": "POST /api/v1/auth/register",
        "POST /login/second-factor": "POST /api/v1/auth/login/second-factor",
        "POST /password-reset": "POST /api/v1/auth/password-reset",
        "POST /password-reset/{token}": "POST /api/v1/auth/password-reset/confirm",
        "POST /verify-email/{token}": "POST /api/v1/auth/verify-email",
        "POST /account/profile": "PUT /api/v1/me",
        "POST /account/password": "POST /api/v1/me/password",
        "POST /account/sessions/{id}/end": "DELETE /api/v1/me/sessions/{id}",
        "POST /account/verify-email/resend": "POST /api/v1/me/verify-email/resend",
        "POST /account/2fa/start": "POST /api/v1/me/2fa/totp",
        "POST /account/2fa/confirm": "POST /api/v1/me/2fa/totp/confirm",
        "POST /account/2fa/disable": "DELETE /api/v1/me/2fa/totp",
        "POST /cart/items": "POST /api/v1/cart/items",
        "POST /cart/items/{id}/delete": "DELETE /api/v1/cart/items/{id}",
        "POST /cart/checkout": "POST /api/v1/cart/checkout",
        "POST /clientarea/invoices/{id}/pay": "POST /api/v1/invoices/{id}/pay",
        "POST /clientarea/invoices/{id}/apply-credit": "POST /api/v1/invoices/{id}/apply-credit",
        "POST /clientarea/checkouts/{id}": "POST /api/v1/gateways/testcard/webhook",
        "POST /clientarea/billing-profile": "PUT /api/v1/billing-profile",
        "POST /admin/clients/{id}/billing-profile": "PUT /api/v1/admin/clients/{id}/billing-profile",
        "POST /admin/orders/{id}/{action}": "POST /api/v1/admin/orders/{id}/accept",
        "POST /admin/services/{id}/{action}": "POST /api/v1/admin/services/{id}/{action}",
        "POST /admin/product-groups": "POST /api/v1/admin/product-groups",
        "POST /admin/products": "POST /api/v1/admin/products",
        "POST /admin/products/{id}": "PUT /api/v1/admin/products/{id}",
        "POST /admin/clients/{id}/credit": "POST /api/v1/admin/clients/{id}/credit",
        "POST /admin/invoices": "POST /api/v1/admin/invoices",
        "POST /admin/invoices/{id}/lines": "POST /api/v1/admin/invoices/{id}/lines",
        "POST /admin/invoices/{id}/payments": "POST /api/v1/admin/invoices/{id}/payments",
        "POST /admin/invoices/{id}/{action}": "POST /api/v1/admin/invoices/{id}/issue",
        "POST /admin/billing/run": "POST /api/v1/admin/billing/run",
        "POST /admin/payments/{id}/refund": "POST /api/v1/admin/payments/{id}/refund",
        "POST /admin/api-tokens": "POST /api/v1/admin/api-tokens",
        "POST /admin/api-tokens/{id}/revoke": "DELETE /api/v1/admin/api-tokens/{id}",
        "POST /admin/company": "PUT /api/v1/admin/company",
        "POST /clientarea/tickets/new": "POST /api/v1/tickets",
        "POST /clientarea/tickets/reply": "POST /api/v1/tickets/{id}/replies",
        "POST /clientarea/tickets/close": "POST /api/v1/tickets/{id}/close",
        "POST /admin/tickets/reply": "POST /api/v1/admin/tickets/{id}/replies",
        "POST /admin/tickets/update": "PUT /api/v1/admin/tickets/{id}",
        "POST /admin/support/canned-replies": "POST /api/v1/admin/support/canned-replies",
        "POST /admin/support/departments": "POST /api/v1/admin/support/departments",
        "POST /admin/announcements": "POST /api/v1/admin/announcements",
        "POST /admin/announcements/{id}": "PUT /api/v1/admin/announcements/{id}",
        "POST /admin/announcements/{id}/delete": "DELETE /api/v1/admin/announcements/{id}",
        "POST /admin/kb/categories": "POST /api/v1/admin/kb/categories",
        "POST /admin/kb/articles": "POST /api/v1/admin/kb/articles",
        "POST /admin/kb/articles/{id}": "PUT /api/v1/admin/kb/articles/{id}",
        "POST /admin/kb/articles/{id}/delete": "DELETE /api/v1/admin/kb/articles/{id}",
        "POST /admin/downloads/categories": "POST /api/v1/admin/downloads/categories",
        "POST /admin/downloads/upload": "POST /api/v1/admin/downloads",
        "POST /admin/downloads/{id}/delete": "DELETE /api/v1/admin/downloads/{id}",
        "POST /admin/mail/retry": "POST /api/v1/admin/mail/outbox/{id}/retry",
        "POST /admin/mail/templates": "PUT /api/v1/admin/mail/templates/{key}",
        "POST /admin/mail/templates/reset": "DELETE /api/v1/admin/mail/templates/{key}",
        "POST /admin/staff/invite": "POST /api/v1/admin/staff",
        "POST /admin/staff/{id}": "PUT /api/v1/admin/staff/{id}",
        "POST /admin/roles": "POST /api/v1/admin/roles",
        "POST /account/users/invite": "POST /api/v1/me/users",
        "POST /account/users/{id}": "PUT /api/v1/me/users/{id}",
        "POST /account/users/{id}/remove": "DELETE /api/v1/me/users/{id}",
        "POST /invitations/{token}": "POST /api/v1/auth/invitations/accept",
        "POST /account/company": "PUT /api/v1/me/client",
    ]

    static func isChange(_ route: Route) -> Bool { ["POST", "PUT", "PATCH", "DELETE"].contains(route.method) }

    @Test func everyRouteIsWalkedTwinnedOrExempt() async throws {
        let changes = Set(try await PortalRouter.registeredRoutes().filter(Self.isChange).map(\.description))
        #expect(changes.count > 100)
        let covered = Set(Self.recipes.keys).union(Self.pageTwins.keys).union(Self.exempt.keys)
        #expect(changes.subtracting(covered).isEmpty, "routes that change state with no audit walk (add a recipe, a page twin or a reasoned exemption): \(changes.subtracting(covered).sorted())")
        let walked = Set(Self.recipes.keys).union(Self.pageTwins.keys)
        #expect(walked.subtracting(changes).isEmpty, "walk entries for routes that do not exist: \(walked.subtracting(changes).sorted())")
        #expect(Set(Self.pageTwins.values).isSubset(of: Self.recipes.keys), "page twins of routes not walked: \(Set(Self.pageTwins.values).subtracting(Self.recipes.keys).sorted())")
        #expect(Set(Self.recipes.keys).isDisjoint(with: Self.exempt.keys) && Set(Self.pageTwins.keys).isDisjoint(with: Self.recipes.keys))
    }

    @Test(arguments: BillingLive.Engine.allCases)
    func everyChangeWritesExactlyOneEventAndAFailedOneNone(_ engine: BillingLive.Engine) async throws {
        // The billing job would apply the walker's credit on its own schedule: only once a year
        // here. Mail delivery (which makes queued reset links) every second.
        let live = try await BillingLive.start(engine, name: "auditwalk\(engine.rawValue)", settings: ["jobs.billing.schedule=0 0 1 1 *", "mail.delivery_interval=1s"])
        defer { live.stop() }
        let walk = try await Walk.start(live, engine: engine)
        let routes = try await PortalRouter.registeredRoutes().filter(Self.isChange)
        var seen: Set<String> = []

        // Success: exactly the recipe's event, from this request.
        for (key, recipe) in Self.recipes.sorted(by: { $0.key < $1.key }) {
            let call = try await recipe(walk)
            let before = try await walk.eventIDs()
            let response = try await call.send()
            #expect((200..<400).contains(response.status), "\(key) answered \(response.status): \(response.body.prefix(300))")
            let new = call.byTheMailJob ? try await walk.eventsByTheMailJob(after: before) : try await walk.events(after: before)
            #expect(new.map(\.action) == [call.action], "\(key) wrote \(new.map(\.action)), not [\(call.action)]")
            if let event = new.first, let requestID = call.requestID {
                #expect(event.requestID == requestID, "\(key): the event does not carry the request's id")
            }
            seen.formUnion(new.map(\.action))
        }
        // The actions only a node drives (AuditTrailTests.drivenThroughANode) happened here.
        for action in ["job.run_queued", "file.uploaded", "file.deleted"] {
            #expect(seen.contains(action), "\(action) was never written")
        }

        // Failure: a visitor, the other side, placeholder ids and an empty body write nothing.
        for route in routes {
            let path = route.path.replacing(/\{[a-z_]+\}|:[a-z_]+/) { _ in UUID().uuidString.lowercased() }
            let isStaffRoute = route.path.hasPrefix("/admin") || route.path.hasPrefix("/api/v1/admin")
            // Staff routes as a client (forbidden); the others as a fresh client of its own with
            // placeholder ids and an empty body (a log-out would end a session the walk needs).
            var other = (walk.client, walk.clientCSRF)
            if !isStaffRoute {
                let fresh = try await walk.newClient("refused").client
                other = (fresh, try #require(NodeLiveTests.csrfToken(in: try await fresh.get("/clientarea").body)))
            }
            let attempts: [(String, HTTPTestClient, String)] = [("a visitor", live.nodes[0].client(), ""), (isStaffRoute ? "a client" : "a client with bad input", other.0, other.1)]
            for (who, client, csrf) in attempts {
                let before = try await walk.eventIDs()
                let response: HTTPTestClient.Response
                if path.hasPrefix("/api/") {
                    response = try await client.send(route.method, path, headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
                } else {
                    response = try await client.postForm(path, ["_csrf": csrf])
                }
                let new = try await walk.events(after: before)
                if response.status >= 400 {
                    #expect(new.isEmpty, "\(route) refused \(who) (\(response.status)) but wrote \(new.map(\.action))")
                } else {
                    // A route that accepts anything from anyone must still record what it did.
                    #expect(new.count <= 1, "\(route) as \(who) answered \(response.status) and wrote \(new.map(\.action))")
                }
            }
        }
    }

    // MARK: The walk

    /// One call of a recipe and the action it must record.
    struct Call {
        let client: HTTPTestClient
        let method: String
        let path: String
        var headers: [String: String] = [:]
        var body: [UInt8]? = nil
        let action: String
        var requestID: String? = "walk-\(UUID().uuidString.prefix(8))"
        /// The event is written after the answer, by the mail-delivery job's next run.
        var byTheMailJob = false

        static func json(_ client: HTTPTestClient, _ method: String, _ path: String, _ object: [String: Any] = [:], headers: [String: String] = [:], action: String) throws -> Call {
            Call(
                client: client, method: method, path: path, headers: headers.merging(["Content-Type": "application/json"]) { $1 },
                body: Array(try JSONSerialization.data(withJSONObject: object)), action: action
            )
        }

        static func raw(_ client: HTTPTestClient, _ path: String, filename: String, _ text: String, action: String) -> Call {
            Call(client: client, method: "POST", path: path, headers: ["Content-Type": "text/plain", "X-Upload-Filename": filename], body: Array(text.utf8), action: action)
        }

        func send() async throws -> HTTPTestClient.Response {
            var headers = self.headers
            if let requestID { headers["X-Request-ID"] = requestID }
            return try await client.send(method, path, headers: headers, body: body)
        }
    }

    /// The node, a staff session and a client session, the shared database (to read mailed
    /// tokens) and helpers that make what a recipe needs.
    struct Walk: Sendable {
        let live: BillingLive
        let staff: HTTPTestClient
        let client: HTTPTestClient
        let clientID: String
        let staffCSRF: String
        let clientCSRF: String
        let engine: BillingLive.Engine
        /// The node's SQLite file (`nil` on PostgreSQL).
        let sqlitePath: String?

        static func start(_ live: BillingLive, engine: BillingLive.Engine) async throws -> Walk {
            let client = try await live.client("walker")
            let clientID = try #require(try await client.get("/api/v1/me").json["id"] as? String)
            let staffCSRF = try #require(NodeLiveTests.csrfToken(in: try await live.staff.get("/admin").body))
            let clientCSRF = try #require(NodeLiveTests.csrfToken(in: try await client.get("/clientarea").body))
            let path = engine == .sqlite ? live.nodes[0].workingDirectory.appendingPathComponent("steadfast-data/steadfast.sqlite").path : nil
            return Walk(live: live, staff: live.staff, client: client, clientID: clientID, staffCSRF: staffCSRF, clientCSRF: clientCSRF, engine: engine, sqlitePath: path)
        }

        // Events, read through the staff API (newest first).
        struct Event {
            let id: String
            let action: String
            let requestID: String?
        }

        func latest() async throws -> [Event] {
            let page = try await staff.get("/api/v1/admin/audit-events?limit=50")
            let items = try #require(page.json["items"] as? [[String: Any]], "\(page.status) \(page.body.prefix(200))")
            return items.map { Event(id: $0["id"] as? String ?? "", action: $0["action"] as? String ?? "", requestID: $0["request_id"] as? String) }
        }

        func eventIDs() async throws -> Set<String> { Set(try await latest().map(\.id)) }

        func events(after before: Set<String>) async throws -> [Event] {
            try await latest().filter { !before.contains($0.id) }
        }

        /// The events since `before` once the mail-delivery job (every second here) has written one.
        /// The bound is for giving up: a clean-clone run beside other builds once waited over
        /// 30 s for a node to get to its delivery slot.
        func eventsByTheMailJob(after before: Set<String>) async throws -> [Event] {
            _ = try await eventually(timeout: .seconds(120)) { try await !events(after: before).isEmpty }
            return try await events(after: before)
        }

        /// A text value from the shared database: `sql` selects one column named `v`.
        func value(_ sql: String) async throws -> String? {
            if let sqlitePath {
                let sqlite = try await SQLiteEngine.open(path: sqlitePath, logger: Logger(label: "walk"))
                do {
                    let value = try await sqlite.query(.trusted(sql)).first.map { try $0.string("v") }
                    try await sqlite.close()
                    return value
                } catch {
                    try? await sqlite.close()
                    throw error
                }
            }
            let text = try await psql(sql).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }

        func execute(_ sql: String) async throws {
            if let sqlitePath {
                let sqlite = try await SQLiteEngine.open(path: sqlitePath, logger: Logger(label: "walk"))
                do {
                    try await sqlite.query(.trusted(sql))
                    try await sqlite.close()
                } catch {
                    try? await sqlite.close()
                    throw error
                }
                return
            }
            _ = try await psql(sql)
        }

        func psql(_ sql: String) async throws -> String {
            let server = try await PostgresServer.shared()
            let name = try #require(live.database.flatMap { URL(string: $0)?.lastPathComponent })
            return try await server.psql(sql, database: name)
        }

        /// The token of the last `template` mail to `address` (a link's 64 hex characters).
        func mailedToken(_ template: String, to address: String) async throws -> String {
            let body = try #require(try await value("SELECT text_body AS v FROM mail_outbox WHERE template = '\(template)' AND to_address = '\(address)' ORDER BY created_at DESC LIMIT 1"))
            return try #require(body.firstMatch(of: /([0-9a-f]{64})/)?.1).description
        }

        static func id(_ response: HTTPTestClient.Response, _ what: String = "id") throws -> String {
            try #require(response.json[what] as? String, "\(response.status) \(response.body.prefix(300))")
        }

        /// A new logged-in client and its e-mail address.
        func newClient(_ label: String = "walk") async throws -> (client: HTTPTestClient, email: String) {
            let client = live.nodes[0].client()
            let email = "\(label)-\(UUID().uuidString.prefix(8))@example.com"
            #expect(try await client.postJSON("/api/v1/auth/register", ["email": email, "password": BillingLive.password, "name": label]).status == 201)
            #expect(try await client.postJSON("/api/v1/auth/login", ["email": email, "password": BillingLive.password]).status == 200)
            return (client, email)
        }

        /// A new client owner, a user it invited (id) and that user's e-mail address.
        func invitedUser() async throws -> (owner: HTTPTestClient, user: String, email: String) {
            let (owner, _) = try await newClient("owner")
            let email = "user-\(UUID().uuidString.prefix(8))@example.com"
            let user = try Walk.id(try await owner.postJSON("/api/v1/me/users", ["email": email, "name": "User", "permissions": ["billing"]]))
            return (owner, user, email)
        }

        /// The walker's order and its invoice (unpaid).
        func order() async throws -> (order: String, invoice: String) { try await live.order(client) }

        /// A paid order's service and payment.
        func paidOrder() async throws -> (invoice: String, service: String, payment: String) {
            let (_, invoice) = try await order()
            let paid = try await client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa"], headers: ["Idempotency-Key": UUID().uuidString])
            let payment = try #require((paid.json["payment"] as? [String: Any])?["id"] as? String, "\(paid.body.prefix(300))")
            let services = try #require(try await client.get("/api/v1/services?limit=200").json["items"] as? [[String: Any]])
            let service = try #require(services.first { $0["status"] as? String == "active" }?["id"] as? String)
            return (invoice, service, payment)
        }

        func draft() async throws -> String {
            try Walk.id(try await staff.postJSON("/api/v1/admin/invoices", ["client_id": clientID, "lines": [["description": "Work", "amount": 2000]]]))
        }

        func department() async throws -> String {
            try Walk.id(try await staff.postJSON("/api/v1/admin/support/departments", ["name": "Desk", "email": "desk-\(UUID().uuidString.prefix(6))@example.com", "public": true]))
        }

        func ticket() async throws -> String {
            try Walk.id(try await client.postJSON("/api/v1/tickets", ["department_id": try await department(), "subject": "Down", "message": "My site is down"]))
        }

        func kbCategory() async throws -> String {
            try Walk.id(try await staff.postJSON("/api/v1/admin/kb/categories", ["name": "Billing \(UUID().uuidString.prefix(6))"]))
        }

        func downloadCategory() async throws -> String {
            try Walk.id(try await staff.postJSON("/api/v1/admin/downloads/categories", ["name": "Tools \(UUID().uuidString.prefix(6))"]))
        }

        func download() async throws -> String {
            let category = try await downloadCategory()
            return try Walk.id(try await Call.raw(staff, "/api/v1/admin/downloads?category_id=\(category)", filename: "tool.txt", "a tool", action: "").send())
        }

        /// A client with two-factor log-in on, its session and its recovery codes.
        func twoFactorClient() async throws -> (client: HTTPTestClient, email: String, recovery: [String]) {
            let (client, email) = try await newClient("twofa")
            let started = try await client.postJSON("/api/v1/me/2fa/totp", [:])
            let totp = try #require(TOTP(base32: try Walk.id(started, "secret")))
            let confirmed = try await client.postJSON("/api/v1/me/2fa/totp/confirm", ["code": totp.code(at: Date())])
            return (client, email, try #require(confirmed.json["recovery_codes"] as? [String], "\(confirmed.body)"))
        }
    }

    typealias Recipe = @Sendable (Walk) async throws -> Call

    static let recipes: [String: Recipe] = [
        // Accounts
        "POST /api/v1/auth/register": { w in
            try .json(w.live.nodes[0].client(), "POST", "/api/v1/auth/register", ["email": "new-\(UUID().uuidString.prefix(8))@example.com", "password": BillingLive.password, "name": "New"], action: "account.registered")
        },
        "POST /api/v1/auth/login": { w in
            let (_, email) = try await w.newClient()
            return try .json(w.live.nodes[0].client(), "POST", "/api/v1/auth/login", ["email": email, "password": BillingLive.password], action: "account.logged_in")
        },
        "POST /api/v1/auth/logout": { w in try .json(try await w.newClient().client, "POST", "/api/v1/auth/logout", action: "account.logged_out") },
        "POST /api/v1/auth/login/second-factor": { w in
            let (_, email, recovery) = try await w.twoFactorClient()
            let fresh = w.live.nodes[0].client()
            #expect(try await fresh.postJSON("/api/v1/auth/login", ["email": email, "password": BillingLive.password]).json["second_factor_required"] as? Bool == true)
            return try .json(fresh, "POST", "/api/v1/auth/login/second-factor", ["code": recovery[0]], action: "account.logged_in")
        },
        // The request queues the address; the mail-delivery job writes the event (with the
        // request's id) when it makes the link (docs/accounts.md, "Password reset").
        "POST /api/v1/auth/password-reset": { w in
            var call = try Call.json(w.live.nodes[0].client(), "POST", "/api/v1/auth/password-reset", ["email": try await w.newClient().email], action: "account.password_reset_requested")
            call.byTheMailJob = true
            return call
        },
        "POST /api/v1/auth/password-reset/confirm": { w in
            let (_, email) = try await w.newClient()
            let before = try await w.eventIDs()
            #expect(try await w.live.nodes[0].client().postJSON("/api/v1/auth/password-reset", ["email": email]).status == 202)
            #expect(try await w.eventsByTheMailJob(after: before).count == 1)
            let token = try await w.mailedToken("password_reset", to: email)
            return try .json(w.live.nodes[0].client(), "POST", "/api/v1/auth/password-reset/confirm", ["token": token, "password": "a brand new secret"], action: "account.password_reset")
        },
        "POST /api/v1/auth/verify-email": { w in
            let (_, email) = try await w.newClient()
            let token = try await w.mailedToken("email_verification", to: email)
            return try .json(w.live.nodes[0].client(), "POST", "/api/v1/auth/verify-email", ["token": token], action: "account.email_verified")
        },
        "PUT /api/v1/me": { w in try .json(try await w.newClient().client, "PUT", "/api/v1/me", ["name": "Renamed"], action: "account.profile_updated") },
        // Client users (docs/accounts.md, "Client users"): the owner invites, changes and removes;
        // the invited user accepts with the mailed token.
        "POST /api/v1/me/users": { w in
            try .json(try await w.newClient("owner").client, "POST", "/api/v1/me/users", ["email": "user-\(UUID().uuidString.prefix(8))@example.com", "name": "User", "permissions": ["billing"]], action: "client_user.invited")
        },
        "PUT /api/v1/me/users/{id}": { w in
            let (owner, user, _) = try await w.invitedUser()
            return try .json(owner, "PUT", "/api/v1/me/users/\(user)", ["permissions": ["billing", "support"]], action: "client_user.updated")
        },
        "DELETE /api/v1/me/users/{id}": { w in
            let (owner, user, _) = try await w.invitedUser()
            return try .json(owner, "DELETE", "/api/v1/me/users/\(user)", action: "client_user.removed")
        },
        "POST /api/v1/auth/invitations/accept": { w in
            let (_, _, email) = try await w.invitedUser()
            let token = try await w.mailedToken("client_user_invite", to: email)
            return try .json(w.live.nodes[0].client(), "POST", "/api/v1/auth/invitations/accept", ["token": token, "password": "the user's own secret", "name": "User"], action: "client_user.accepted")
        },
        "PUT /api/v1/me/client": { w in
            try .json(try await w.newClient().client, "PUT", "/api/v1/me/client", ["company": "Walk Ltd", "phone": "+44 20 7946 0000", "address": "1 Walk Street"], action: "account.profile_updated")
        },
        "POST /api/v1/me/password": { w in
            try .json(try await w.newClient().client, "POST", "/api/v1/me/password", ["current_password": BillingLive.password, "new_password": "another long secret"], action: "account.password_changed")
        },
        "DELETE /api/v1/me/sessions/{id}": { w in
            let (client, email) = try await w.newClient()
            #expect(try await w.live.nodes[0].client().postJSON("/api/v1/auth/login", ["email": email, "password": BillingLive.password]).status == 200)
            let sessions = try #require(try await client.get("/api/v1/me/sessions").json["sessions"] as? [[String: Any]])
            let other = try #require(sessions.first { $0["current"] as? Bool != true }?["id"] as? String, "\(sessions)")
            return try .json(client, "DELETE", "/api/v1/me/sessions/\(other)", action: "account.session_ended")
        },
        "POST /api/v1/me/2fa/totp": { w in try .json(try await w.newClient().client, "POST", "/api/v1/me/2fa/totp", action: "account.2fa_enrolment_started") },
        "POST /api/v1/me/2fa/totp/confirm": { w in
            let (client, _) = try await w.newClient()
            let totp = try #require(TOTP(base32: try Walk.id(try await client.postJSON("/api/v1/me/2fa/totp", [:]), "secret")))
            return try .json(client, "POST", "/api/v1/me/2fa/totp/confirm", ["code": totp.code(at: Date())], action: "account.2fa_enabled")
        },
        "DELETE /api/v1/me/2fa/totp": { w in
            let (client, _, recovery) = try await w.twoFactorClient()
            return try .json(client, "DELETE", "/api/v1/me/2fa/totp", ["code": recovery[0]], action: "account.2fa_disabled")
        },
        "POST /api/v1/me/verify-email/resend": { w in try .json(try await w.newClient().client, "POST", "/api/v1/me/verify-email/resend", action: "account.email_verification_sent") },
        // Staff management
        "POST /api/v1/admin/roles": { w in try .json(w.staff, "POST", "/api/v1/admin/roles", ["name": "Desk \(UUID().uuidString.prefix(6))", "permissions": ["support.reply"]], action: "staff_role.created") },
        "POST /api/v1/admin/staff": { w in
            try .json(w.staff, "POST", "/api/v1/admin/staff", ["email": "colleague-\(UUID().uuidString.prefix(6))@example.com", "name": "Colleague", "roles": ["Full access"]], action: "staff.invited")
        },
        "PUT /api/v1/admin/staff/{id}": { w in
            let invited = try Walk.id(try await w.staff.postJSON("/api/v1/admin/staff", ["email": "other-\(UUID().uuidString.prefix(6))@example.com", "name": "Other", "roles": ["Full access"]]))
            return try .json(w.staff, "PUT", "/api/v1/admin/staff/\(invited)", ["disabled": true], action: "staff.updated")
        },
        "POST /api/v1/admin/api-tokens": { w in try .json(w.staff, "POST", "/api/v1/admin/api-tokens", ["name": "deploy"], action: "api_token.created") },
        "DELETE /api/v1/admin/api-tokens/{id}": { w in
            let token = try Walk.id(try await w.staff.postJSON("/api/v1/admin/api-tokens", ["name": "old"]))
            return try .json(w.staff, "DELETE", "/api/v1/admin/api-tokens/\(token)", action: "api_token.revoked")
        },
        // Files
        "POST /api/v1/files": { w in .raw(w.client, "/api/v1/files", filename: "notes.txt", "some notes", action: "file.uploaded") },
        "DELETE /api/v1/files/{id}": { w in
            let file = try Walk.id(try await Call.raw(w.client, "/api/v1/files", filename: "old.txt", "old notes", action: "").send())
            return try .json(w.client, "DELETE", "/api/v1/files/\(file)", action: "file.deleted")
        },
        // Billing: clients
        "POST /api/v1/cart/items": { w in try .json(w.client, "POST", "/api/v1/cart/items", ["product_id": w.live.productID, "cycle": "monthly"], action: "cart.item_added") },
        "DELETE /api/v1/cart/items/{id}": { w in
            // The answer is the whole cart: a client of its own has just this item in it.
            let (client, _) = try await w.newClient()
            let cart = try await client.postJSON("/api/v1/cart/items", ["product_id": w.live.productID, "cycle": "monthly"])
            let item = try #require((cart.json["items"] as? [[String: Any]])?.first?["id"] as? String, "\(cart.body.prefix(300))")
            return try .json(client, "DELETE", "/api/v1/cart/items/\(item)", action: "cart.item_removed")
        },
        "POST /api/v1/cart/checkout": { w in
            let (client, _) = try await w.newClient()
            #expect(try await client.postJSON("/api/v1/cart/items", ["product_id": w.live.productID, "cycle": "monthly"]).status == 201)
            return try .json(client, "POST", "/api/v1/cart/checkout", action: "order.placed")
        },
        "POST /api/v1/invoices/{id}/pay": { w in
            let (_, invoice) = try await w.order()
            return try .json(w.client, "POST", "/api/v1/invoices/\(invoice)/pay", ["gateway": "banktransfer"], headers: ["Idempotency-Key": UUID().uuidString], action: "payment.started")
        },
        "POST /api/v1/invoices/{id}/apply-credit": { w in
            let (_, invoice) = try await w.order()
            #expect(try await w.staff.postJSON("/api/v1/admin/clients/\(w.clientID)/credit", ["amount": 100_000, "description": "prepaid"], headers: ["Idempotency-Key": UUID().uuidString]).status < 300)
            return try .json(w.client, "POST", "/api/v1/invoices/\(invoice)/apply-credit", headers: ["Idempotency-Key": UUID().uuidString], action: "credit.applied")
        },
        "PUT /api/v1/billing-profile": { w in try .json(try await w.newClient().client, "PUT", "/api/v1/billing-profile", ["country": "FR"], action: "billing_profile.updated") },
        "POST /api/v1/gateways/testcard/webhook": { w in
            let (_, invoice) = try await w.order()
            let pending = try await w.client.postJSON("/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard"], headers: ["Idempotency-Key": UUID().uuidString])
            let checkout = try #require((pending.json["checkout"] as? [String: Any]), "\(pending.body.prefix(300))")
            let event = TestCardGateway.Event(
                type: "payment.succeeded", checkoutID: try #require(checkout["id"] as? String), transactionID: "tx-\(UUID().uuidString.prefix(8))",
                amount: Int64(try #require(checkout["amount"] as? Int)), currency: "EUR"
            )
            let signed = try TestCardGateway(secret: BillingLive.webhookSecret).signedEvent(event)
            return Call(
                client: w.live.nodes[0].client(), method: "POST", path: "/api/v1/gateways/testcard/webhook",
                headers: ["Content-Type": "application/json", "X-Signature": signed.signature], body: signed.body, action: "payment.received"
            )
        },
        // Billing: staff
        "PUT /api/v1/admin/clients/{id}/billing-profile": { w in
            let id = try #require(try await (try await w.newClient().client).get("/api/v1/me").json["id"] as? String)
            return try .json(w.staff, "PUT", "/api/v1/admin/clients/\(id)/billing-profile", ["country": "FR"], action: "billing_profile.updated")
        },
        "POST /api/v1/admin/orders/{id}/accept": { w in try .json(w.staff, "POST", "/api/v1/admin/orders/\(try await w.order().order)/accept", action: "order.accepted") },
        "POST /api/v1/admin/orders/{id}/cancel": { w in try .json(w.staff, "POST", "/api/v1/admin/orders/\(try await w.order().order)/cancel", action: "order.cancelled") },
        "POST /api/v1/admin/orders/{id}/fraud": { w in try .json(w.staff, "POST", "/api/v1/admin/orders/\(try await w.order().order)/fraud", action: "order.marked_fraud") },
        "POST /api/v1/admin/services/{id}/{action}": { w in try .json(w.staff, "POST", "/api/v1/admin/services/\(try await w.paidOrder().service)/suspend", action: "service.changed") },
        "POST /api/v1/admin/product-groups": { w in try .json(w.staff, "POST", "/api/v1/admin/product-groups", ["name": "VPS"], action: "product_group.created") },
        "PATCH /api/v1/admin/product-groups/{id}": { w in
            let group = try Walk.id(try await w.staff.postJSON("/api/v1/admin/product-groups", ["name": "Old"]))
            return try .json(w.staff, "PATCH", "/api/v1/admin/product-groups/\(group)", ["name": "New"], action: "product_group.updated")
        },
        "POST /api/v1/admin/products": { w in
            let group = try Walk.id(try await w.staff.postJSON("/api/v1/admin/product-groups", ["name": "Servers"]))
            return try .json(w.staff, "POST", "/api/v1/admin/products", ["group_id": group, "name": "Small", "pricing": [["cycle": "monthly", "recurring": 500]]], action: "product.created")
        },
        "PUT /api/v1/admin/products/{id}": { w in
            let group = try Walk.id(try await w.staff.postJSON("/api/v1/admin/product-groups", ["name": "Servers"]))
            let product = try Walk.id(try await w.staff.postJSON("/api/v1/admin/products", ["group_id": group, "name": "Small", "pricing": [["cycle": "monthly", "recurring": 500]]]))
            return try .json(w.staff, "PUT", "/api/v1/admin/products/\(product)", ["group_id": group, "name": "Bigger", "pricing": [["cycle": "monthly", "recurring": 900]]], action: "product.updated")
        },
        "POST /api/v1/admin/clients/{id}/credit": { w in
            try .json(w.staff, "POST", "/api/v1/admin/clients/\(w.clientID)/credit", ["amount": 500, "description": "goodwill"], headers: ["Idempotency-Key": UUID().uuidString], action: "credit.adjusted")
        },
        "POST /api/v1/admin/invoices": { w in try .json(w.staff, "POST", "/api/v1/admin/invoices", ["client_id": w.clientID, "lines": [["description": "Work", "amount": 2000]]], action: "invoice.created") },
        "POST /api/v1/admin/invoices/{id}/lines": { w in try .json(w.staff, "POST", "/api/v1/admin/invoices/\(try await w.draft())/lines", ["lines": [["description": "More", "amount": 100]]], action: "invoice.lines_added") },
        "POST /api/v1/admin/invoices/{id}/issue": { w in try .json(w.staff, "POST", "/api/v1/admin/invoices/\(try await w.draft())/issue", action: "invoice.issued") },
        "POST /api/v1/admin/invoices/{id}/cancel": { w in try .json(w.staff, "POST", "/api/v1/admin/invoices/\(try await w.order().invoice)/cancel", action: "invoice.cancelled") },
        "POST /api/v1/admin/invoices/{id}/collections": { w in try .json(w.staff, "POST", "/api/v1/admin/invoices/\(try await w.order().invoice)/collections", action: "invoice.sent_to_collections") },
        "POST /api/v1/admin/invoices/{id}/payments": { w in
            try .json(
                w.staff, "POST", "/api/v1/admin/invoices/\(try await w.order().invoice)/payments", ["amount": 500, "transaction_id": "BANK-\(UUID().uuidString.prefix(8))"],
                headers: ["Idempotency-Key": UUID().uuidString], action: "payment.recorded"
            )
        },
        // Nothing is due in this walk: the run's own event is the one event.
        "POST /api/v1/admin/billing/run": { w in try .json(w.staff, "POST", "/api/v1/admin/billing/run", ["task": "unsuspensions"], action: "billing.run") },
        "POST /api/v1/admin/payments/{id}/refund": { w in
            try .json(w.staff, "POST", "/api/v1/admin/payments/\(try await w.paidOrder().payment)/refund", ["amount": 100, "to_credit": true], headers: ["Idempotency-Key": UUID().uuidString], action: "payment.refunded")
        },
        "PUT /api/v1/admin/company": { w in try .json(w.staff, "PUT", "/api/v1/admin/company", ["legal_name": "Hosting \(UUID().uuidString.prefix(4)) Ltd", "address": "1 Main St"], action: "company.updated") },
        "POST /api/v1/admin/jobs/{name}/run": { w in try .json(w.staff, "POST", "/api/v1/admin/jobs/session-cleanup/run", action: "job.run_queued") },
        "POST /admin/jobs/{name}/run": { w in
            var call = Call(client: w.staff, method: "POST", path: "/admin/jobs/session-cleanup/run", action: "job.run_queued")
            call.headers = ["Content-Type": "application/x-www-form-urlencoded"]
            call.body = Array("_csrf=\(w.staffCSRF)".utf8)
            return call
        },
        "POST /logout": { w in
            let (client, _) = try await w.newClient()
            let csrf = try #require(NodeLiveTests.csrfToken(in: try await client.get("/clientarea").body))
            return Call(client: client, method: "POST", path: "/logout", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array("_csrf=\(csrf)".utf8), action: "account.logged_out")
        },
        // Mail
        "POST /api/v1/admin/mail/outbox/{id}/retry": { w in
            let id = try #require(try await w.value("SELECT id AS v FROM mail_outbox ORDER BY created_at LIMIT 1"))
            try await w.execute("UPDATE mail_outbox SET state = 'failed' WHERE id = '\(id)'")
            return try .json(w.staff, "POST", "/api/v1/admin/mail/outbox/\(id)/retry", action: "mail.retried")
        },
        "PUT /api/v1/admin/mail/templates/{key}": { w in
            try .json(w.staff, "PUT", "/api/v1/admin/mail/templates/payment_received", ["subject": "Thanks", "text_body": "Paid {{invoice_number}}", "html_body": "<p>Paid</p>"], action: "mail_template.saved")
        },
        "DELETE /api/v1/admin/mail/templates/{key}": { w in
            let saved = try await w.staff.send(
                "PUT", "/api/v1/admin/mail/templates/payment_failed", headers: ["Content-Type": "application/json"],
                body: Array(try JSONSerialization.data(withJSONObject: ["subject": "Sorry", "text_body": "Declined", "html_body": "<p>Declined</p>"]))
            )
            #expect(saved.status == 200, "\(saved.body.prefix(300))")
            return try .json(w.staff, "DELETE", "/api/v1/admin/mail/templates/payment_failed", action: "mail_template.reset")
        },
        // Support
        "POST /api/v1/tickets/attachments": { w in .raw(w.client, "/api/v1/tickets/attachments", filename: "log.txt", "a log line", action: "ticket.attachment_uploaded") },
        "POST /api/v1/tickets": { w in try .json(w.client, "POST", "/api/v1/tickets", ["department_id": try await w.department(), "subject": "Down", "message": "It is down"], action: "ticket.opened") },
        "POST /api/v1/tickets/{id}/replies": { w in try .json(w.client, "POST", "/api/v1/tickets/\(try await w.ticket())/replies", ["message": "Still down"], action: "ticket.replied") },
        "POST /api/v1/tickets/{id}/close": { w in try .json(w.client, "POST", "/api/v1/tickets/\(try await w.ticket())/close", action: "ticket.closed") },
        "POST /api/v1/admin/support/departments": { w in
            try .json(w.staff, "POST", "/api/v1/admin/support/departments", ["name": "Sales", "email": "sales-\(UUID().uuidString.prefix(6))@example.com", "public": true], action: "department.created")
        },
        "POST /api/v1/admin/support/canned-replies": { w in try .json(w.staff, "POST", "/api/v1/admin/support/canned-replies", ["title": "Hello", "body": "Thanks for writing."], action: "canned_reply.created") },
        "DELETE /api/v1/admin/support/canned-replies/{id}": { w in
            let reply = try Walk.id(try await w.staff.postJSON("/api/v1/admin/support/canned-replies", ["title": "Bye", "body": "Closing."]))
            return try .json(w.staff, "DELETE", "/api/v1/admin/support/canned-replies/\(reply)", action: "canned_reply.deleted")
        },
        "POST /api/v1/admin/tickets/{id}/replies": { w in try .json(w.staff, "POST", "/api/v1/admin/tickets/\(try await w.ticket())/replies", ["message": "On it"], action: "ticket.replied") },
        "PUT /api/v1/admin/tickets/{id}": { w in try .json(w.staff, "PUT", "/api/v1/admin/tickets/\(try await w.ticket())", ["priority": "high"], action: "ticket.updated") },
        // Content
        "POST /api/v1/admin/announcements": { w in try .json(w.staff, "POST", "/api/v1/admin/announcements", ["title": "Maintenance", "body": "Tonight."], action: "content.created") },
        "PUT /api/v1/admin/announcements/{id}": { w in
            let made = try Walk.id(try await w.staff.postJSON("/api/v1/admin/announcements", ["title": "Maintenance", "body": "Tonight."]))
            return try .json(w.staff, "PUT", "/api/v1/admin/announcements/\(made)", ["title": "Maintenance moved", "body": "Tomorrow."], action: "content.updated")
        },
        "DELETE /api/v1/admin/announcements/{id}": { w in
            let made = try Walk.id(try await w.staff.postJSON("/api/v1/admin/announcements", ["title": "Old news", "body": "Gone."]))
            return try .json(w.staff, "DELETE", "/api/v1/admin/announcements/\(made)", action: "content.deleted")
        },
        "POST /api/v1/admin/kb/categories": { w in try .json(w.staff, "POST", "/api/v1/admin/kb/categories", ["name": "Domains \(UUID().uuidString.prefix(6))"], action: "content.created") },
        "PUT /api/v1/admin/kb/categories/{id}": { w in try .json(w.staff, "PUT", "/api/v1/admin/kb/categories/\(try await w.kbCategory())", ["name": "Renamed \(UUID().uuidString.prefix(6))"], action: "content.updated") },
        "DELETE /api/v1/admin/kb/categories/{id}": { w in try .json(w.staff, "DELETE", "/api/v1/admin/kb/categories/\(try await w.kbCategory())", action: "content.deleted") },
        "POST /api/v1/admin/kb/articles": { w in
            try .json(w.staff, "POST", "/api/v1/admin/kb/articles", ["category_id": try await w.kbCategory(), "title": "How to pay \(UUID().uuidString.prefix(6))", "body": "By card."], action: "content.created")
        },
        "PUT /api/v1/admin/kb/articles/{id}": { w in
            let category = try await w.kbCategory()
            let article = try Walk.id(try await w.staff.postJSON("/api/v1/admin/kb/articles", ["category_id": category, "title": "Pay \(UUID().uuidString.prefix(6))", "body": "By card."]))
            return try .json(w.staff, "PUT", "/api/v1/admin/kb/articles/\(article)", ["category_id": category, "title": "Paying \(UUID().uuidString.prefix(6))", "body": "By card or bank."], action: "content.updated")
        },
        "DELETE /api/v1/admin/kb/articles/{id}": { w in
            let article = try Walk.id(try await w.staff.postJSON("/api/v1/admin/kb/articles", ["category_id": try await w.kbCategory(), "title": "Old \(UUID().uuidString.prefix(6))", "body": "Gone."]))
            return try .json(w.staff, "DELETE", "/api/v1/admin/kb/articles/\(article)", action: "content.deleted")
        },
        "POST /api/v1/admin/downloads/categories": { w in try .json(w.staff, "POST", "/api/v1/admin/downloads/categories", ["name": "Agents \(UUID().uuidString.prefix(6))"], action: "content.created") },
        "DELETE /api/v1/admin/downloads/categories/{id}": { w in try .json(w.staff, "DELETE", "/api/v1/admin/downloads/categories/\(try await w.downloadCategory())", action: "content.deleted") },
        "POST /api/v1/admin/downloads": { w in .raw(w.staff, "/api/v1/admin/downloads?category_id=\(try await w.downloadCategory())", filename: "agent.txt", "an agent", action: "content.created") },
        "PUT /api/v1/admin/downloads/{id}": { w in
            let download = try await w.download()
            return try .json(w.staff, "PUT", "/api/v1/admin/downloads/\(download)", ["category_id": try await w.downloadCategory(), "title": "Moved"], action: "content.updated")
        },
        "DELETE /api/v1/admin/downloads/{id}": { w in try .json(w.staff, "DELETE", "/api/v1/admin/downloads/\(try await w.download())", action: "content.deleted") },
    ]
}
