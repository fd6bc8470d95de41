import Foundation
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// A client's users on two real nodes sharing one PostgreSQL (docs/accounts.md, "Client
/// users"): every client route, read from the router, refuses a user without its permission
/// with 403 naming it and admits a user with it; only the owner manages users; removing or
/// disabling a user on node A ends its session on node B with the next request.
@Suite(.serialized) struct ClientUsersLiveTests {
    static let password = "correct horse battery"
    static let permissions = ["billing", "profile", "services", "support"]

    /// Routes a logged-in client user may use whatever its permissions: its own account, its
    /// own files, the overview (which shows only what it may see). Visitors must log in first.
    static let anyUser: Set<String> = [
        "GET /", "GET /clientarea", "GET /account", "POST /account/profile", "POST /account/password", "POST /account/sessions/{id}/end",
        "POST /account/verify-email/resend", "GET /account/2fa", "POST /account/2fa/start", "POST /account/2fa/confirm", "POST /account/2fa/disable",
        "GET /api/v1/me", "PUT /api/v1/me", "POST /api/v1/me/password", "GET /api/v1/me/sessions", "DELETE /api/v1/me/sessions/{id}",
        "POST /api/v1/me/2fa/totp", "POST /api/v1/me/2fa/totp/confirm", "DELETE /api/v1/me/2fa/totp", "POST /api/v1/me/verify-email/resend",
        "GET /api/v1/me/security-events", "POST /api/v1/files", "GET /api/v1/files", "GET /api/v1/files/:id", "GET /api/v1/files/:id/content",
        "GET /api/v1/files/:id/link", "DELETE /api/v1/files/:id", "GET /api/v1/files/{id}", "GET /api/v1/files/{id}/content",
        "GET /api/v1/files/{id}/link", "DELETE /api/v1/files/{id}",
    ]
    /// Only the client account itself manages its users.
    static let ownerOnly: Set<String> = [
        "GET /api/v1/me/users", "POST /api/v1/me/users", "PUT /api/v1/me/users/{id}", "DELETE /api/v1/me/users/{id}",
        "GET /account/users", "POST /account/users/invite", "POST /account/users/{id}", "POST /account/users/{id}/remove",
    ]

    /// Log-in, log-out, registration and password reset are for visitors (the first three change
    /// the walker's session); they are not client routes.
    static func walked(_ route: PortalRouter.RouteEntry) -> Bool {
        ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(route.method) && !StaffPermissionsLiveTests.isStaffRoute(route.path)
            && !["logout", "login", "register", "password-reset"].contains { route.path.contains($0) }
    }

    struct Cluster {
        let nodes: TwoNodeCluster
        /// The client account itself (the owner), logged in on node A.
        let owner: HTTPTestClient
        let ownerID: String

        var a: SteadfastNode { nodes.a }
        var b: SteadfastNode { nodes.b }

        func stop() {
            nodes.stop()
        }

        /// Invites a user with `permissions`, accepts the mailed invitation on node B and logs
        /// the user in there with its own password.
        func invite(_ name: String, permissions: [String]) async throws -> (id: String, client: HTTPTestClient, email: String) {
            let email = "\(name.lowercased())-\(UUID().uuidString.prefix(6))@example.com"
            let invited = try await owner.postJSON("/api/v1/me/users", ["email": email, "name": name, "permissions": permissions])
            #expect(invited.status == 201, "\(invited.body)")
            let id = try #require(invited.json["id"] as? String)
            let token = try await nodes.mailedToken(template: "client_user_invite", to: email, linkPath: "/invitations")
            let accepted = try await b.client().postJSON("/api/v1/auth/invitations/accept", ["token": token, "password": "\(name)'s own password"])
            #expect(accepted.status == 200, "\(accepted.body)")
            #expect(accepted.json["client_id"] as? String == ownerID && accepted.json["client_user"] as? Bool == true)
            // Single use.
            #expect(try await a.client().postJSON("/api/v1/auth/invitations/accept", ["token": token, "password": "another password!"]).status == 400)
            let client = b.client()
            let login = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": "\(name)'s own password"])
            #expect(login.status == 200, "\(login.body)")
            return (id, client, email)
        }

        func setPermissions(_ id: String, _ permissions: [String]) async throws {
            let changed = try await owner.send("PUT", "/api/v1/me/users/\(id)", headers: ["Content-Type": "application/json"], body: Array(try JSONSerialization.data(withJSONObject: ["permissions": permissions])))
            #expect(changed.status == 200 && Set(changed.json["permissions"] as? [String] ?? []) == Set(permissions), "\(changed.body)")
        }
    }

    static func cluster(_ prefix: String) async throws -> Cluster {
        let nodes = try await TwoNodeCluster.start(prefix, adminPassword: password)
        let owner = nodes.a.client()
        let registered = try await owner.postJSON("/api/v1/auth/register", ["email": "olga@example.com", "password": password, "name": "Olga"])
        #expect(registered.status == 201, "\(registered.body)")
        #expect(try await owner.postJSON("/api/v1/auth/login", ["email": "olga@example.com", "password": password]).status == 200)
        return Cluster(nodes: nodes, owner: owner, ownerID: try #require(registered.json["id"] as? String))
    }

    static func missingPermission(_ response: HTTPTestClient.Response) -> String? {
        response.body.firstMatch(of: /client permission ([a-z]+)/).map { String($0.1) }
    }

    static func toLogIn(_ response: HTTPTestClient.Response) -> Bool {
        response.status == 303 && (response.header("Location") ?? "").hasPrefix("/login")
    }

    static func isOwnerOnly(_ response: HTTPTestClient.Response) -> Bool {
        response.status == 403 && response.body.contains("only the client account")
    }

    @Test func everyClientRouteRefusesAUserWithoutItsPermissionAndAdmitsOneWithIt() async throws {
        let routes = try await PortalRouter.registeredRoutes().filter(Self.walked)
        #expect(routes.count > 60)
        let cluster = try await Self.cluster("clientwalk")
        defer { cluster.stop() }
        let walker = try await cluster.invite("Walker", permissions: [])
        let csrf = try #require(NodeLiveTests.csrfToken(in: try await walker.client.get("/account").body))
        let visitor = cluster.b.client()
        let visitorCSRF = try #require(NodeLiveTests.csrfToken(in: try await visitor.get("/login").body))

        // Without any permission: 403 naming the permission the route needs, 403 "owner only"
        // for managing users; anything else only on routes every user (or visitor) may use.
        var needs: [String: [PortalRouter.RouteEntry]] = [:]
        var ownerOnly: Set<String> = []
        for route in routes {
            let response = try await StaffPermissionsLiveTests.request(route, as: walker.client, csrf: csrf)
            #expect(response.status != 401 && !Self.toLogIn(response), "\(route) logged the walker out: \(response.status)")
            if response.status == 403, let permission = Self.missingPermission(response) {
                #expect(Self.permissions.contains(permission), "\(route) names an unknown permission \(permission)")
                needs[permission, default: []].append(route)
                continue
            }
            if Self.isOwnerOnly(response) {
                ownerOnly.insert(route.description)
                continue
            }
            let asVisitor = try await StaffPermissionsLiveTests.request(route, as: visitor, csrf: visitorCSRF)
            let needsLogIn = asVisitor.status == 401 || Self.toLogIn(asVisitor)
            #expect(!needsLogIn || Self.anyUser.contains(route.description),
                    "\(route) answered \(response.status) to a client user without permissions: it has no client permission check (\(response.body.prefix(160)))")
        }
        #expect(Set(needs.keys) == Set(Self.permissions), "permissions no route needs: \(Set(Self.permissions).subtracting(needs.keys))")
        #expect(ownerOnly == Self.ownerOnly)
        // The refusal comes from the group's gate, before the handler reads its input: a body
        // that is not JSON and an id that is no UUID still get 403 (a handler or service would
        // answer 400 or 404 first).
        let gated = needs.flatMap { permission, routes in routes.map { ($0, Optional(permission)) } }
            + routes.filter { ownerOnly.contains($0.description) }.map { ($0, String?.none) }
        for (route, permission) in gated where route.method != "GET" && route.path.hasPrefix("/api/") {
            let path = route.path.replacing(/\{[a-z_]+\}|:[a-z_]+/) { _ in "not-an-id" }
            let response = try await walker.client.send(route.method, path, headers: ["Content-Type": "application/json"], body: Array("not json".utf8))
            let refused = permission.map { response.status == 403 && Self.missingPermission(response) == $0 } ?? Self.isOwnerOnly(response)
            #expect(refused, "\(route) read its input before refusing a user without \(permission ?? "owner"): \(response.status) \(response.body.prefix(160))")
        }
        // The owner may use every one of those.
        for route in routes where Self.ownerOnly.contains(route.description) {
            let csrfOwner = try #require(NodeLiveTests.csrfToken(in: try await cluster.owner.get("/account").body))
            let response = try await StaffPermissionsLiveTests.request(route, as: cluster.owner, csrf: csrfOwner)
            #expect(response.status != 403 && response.status != 401, "\(route) answered \(response.status) to the owner")
        }

        // With exactly that permission (granted on node A, used on node B): admitted. With every
        // other permission but that one: still 403 naming it.
        for (permission, guarded) in needs.sorted(by: { $0.key < $1.key }) {
            try await cluster.setPermissions(walker.id, [permission])
            for route in guarded {
                let response = try await StaffPermissionsLiveTests.request(route, as: walker.client, csrf: csrf)
                #expect(response.status != 403 && response.status != 401, "\(route) answered \(response.status) to a user with \(permission): \(response.body.prefix(200))")
            }
            try await cluster.setPermissions(walker.id, Self.permissions.filter { $0 != permission })
            for route in guarded {
                let response = try await StaffPermissionsLiveTests.request(route, as: walker.client, csrf: csrf)
                #expect(response.status == 403 && Self.missingPermission(response) == permission, "\(route) answered \(response.status) to a user with every permission but \(permission)")
            }
        }
    }

    @Test func removingOrDisablingAUserOnOneNodeEndsItsSessionOnTheOtherAtOnce() async throws {
        let cluster = try await Self.cluster("clientoff")
        defer { cluster.stop() }
        let ann = try await cluster.invite("Ann", permissions: ["billing"])
        let me = try await ann.client.get("/api/v1/me")
        #expect(me.json["client_id"] as? String == cluster.ownerID && me.json["client_permissions"] as? [String] == ["billing"], "\(me.body)")
        #expect(try await ann.client.get("/api/v1/invoices").status == 200)
        // She cannot widen her own permissions nor see the user list.
        let escalate = try await ann.client.send("PUT", "/api/v1/me/users/\(ann.id)", headers: ["Content-Type": "application/json"], body: Array(#"{"permissions": ["billing", "support", "services", "profile"]}"#.utf8))
        #expect(Self.isOwnerOnly(escalate), "\(escalate.body)")
        #expect(Self.isOwnerOnly(try await ann.client.get("/api/v1/me/users")))
        let denied = try await ann.client.get("/api/v1/tickets")
        #expect(denied.status == 403 && denied.error["code"] as? String == "forbidden" && Self.missingPermission(denied) == "support", "\(denied.body)")
        let page = try await ann.client.get("/clientarea/tickets")
        #expect(page.status == 403 && page.body.contains("client permission support"))
        // Her pages offer only what she may use.
        let overview = try await ann.client.get("/clientarea")
        #expect(overview.status == 200 && overview.body.contains("/clientarea/invoices") && !overview.body.contains("href=\"/clientarea/tickets\"") && !overview.body.contains("href=\"/account/users\""))

        // Disabled on node A: refused on node B at once; enabled again, she logs in again.
        let off = try await cluster.owner.send("PUT", "/api/v1/me/users/\(ann.id)", headers: ["Content-Type": "application/json"], body: Array(#"{"disabled": true}"#.utf8))
        #expect(off.status == 200 && off.json["status"] as? String == "disabled", "\(off.body)")
        #expect(try await ann.client.get("/api/v1/invoices").status == 401)
        #expect(try await ann.client.get("/clientarea/invoices").status == 303)
        #expect(try await cluster.b.client().postJSON("/api/v1/auth/login", ["email": ann.email, "password": "Ann's own password"]).status == 401)
        #expect(try await cluster.owner.send("PUT", "/api/v1/me/users/\(ann.id)", headers: ["Content-Type": "application/json"], body: Array(#"{"disabled": false}"#.utf8)).status == 200)
        let again = cluster.b.client()
        #expect(try await again.postJSON("/api/v1/auth/login", ["email": ann.email, "password": "Ann's own password"]).status == 200)
        #expect(try await again.get("/api/v1/invoices").status == 200)

        // Removed on node A: the session on node B ends with its next request, and she is gone
        // from the list.
        #expect(try await cluster.owner.send("DELETE", "/api/v1/me/users/\(ann.id)").status == 204)
        #expect(try await again.get("/api/v1/invoices").status == 401)
        #expect(try await cluster.b.client().postJSON("/api/v1/auth/login", ["email": ann.email, "password": "Ann's own password"]).status == 401)
        let list = try await cluster.owner.get("/api/v1/me/users")
        #expect(list.status == 200 && (list.json["items"] as? [[String: Any]])?.isEmpty == true, "\(list.body)")
        // The owner's page lists users and offers the invitation form.
        let usersPage = try await cluster.owner.get("/account/users")
        #expect(usersPage.status == 200 && usersPage.body.contains("Invite a user"))
    }
}
