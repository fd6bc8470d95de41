import Foundation
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// Staff permissions on two real nodes sharing one PostgreSQL (docs/accounts.md, "Staff
/// permissions"): every staff route, read from the router, refuses staff without its permission
/// and admits staff with it; disabling on node A stops the session and the API token on node B
/// with the next request; token scopes hold across nodes and a token never mints a wider one.
@Suite(.serialized) struct StaffPermissionsLiveTests {
    static let password = "correct horse battery"
    static let permissions = [
        "clients.read", "clients.write", "billing.manage", "billing.refund", "catalogue.manage", "support.reply", "jobs.run", "staff.manage",
        "settings.manage", "api.tokens",
    ]
    /// The staff routes every member of staff may use, whatever their roles.
    static let anyStaff: Set<String> = ["GET /admin"]

    static func isStaffRoute(_ path: String) -> Bool {
        path == "/admin" || path.hasPrefix("/admin/") || path.hasPrefix("/api/v1/admin/")
    }

    struct Cluster {
        let nodes: TwoNodeCluster
        /// The first staff account (full access), logged in on node A.
        let admin: HTTPTestClient

        var a: SteadfastNode { nodes.a }
        var b: SteadfastNode { nodes.b }

        func stop() {
            nodes.stop()
        }

        /// Invites a member of staff with `roles`, sets their password through the mailed link
        /// and logs them in on node B. Returns their id and session.
        func invite(_ name: String, roles: [String]) async throws -> (id: String, client: HTTPTestClient, email: String) {
            let email = "\(name.lowercased())-\(UUID().uuidString.prefix(6))@example.com"
            let invited = try await admin.postJSON("/api/v1/admin/staff", ["email": email, "name": name, "roles": roles])
            #expect(invited.status == 201, "\(invited.body)")
            let id = try #require(invited.json["id"] as? String)
            let token = try await nodes.mailedToken(template: "staff_invite", to: email, linkPath: "/password-reset")
            #expect(try await b.client().postJSON("/api/v1/auth/password-reset/confirm", ["token": token, "password": StaffPermissionsLiveTests.password]).status == 204)
            let client = b.client()
            let login = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": StaffPermissionsLiveTests.password])
            #expect(login.status == 200, "\(login.body)")
            return (id, client, email)
        }

        /// A role per permission, by permission name, and its id.
        func rolePerPermission() async throws -> [String: String] {
            var roles: [String: String] = [:]
            for permission in StaffPermissionsLiveTests.permissions {
                let created = try await admin.postJSON("/api/v1/admin/roles", ["name": "Only \(permission)", "permissions": [permission]])
                #expect(created.status == 201, "\(created.body)")
                roles[permission] = try #require(created.json["id"] as? String)
            }
            return roles
        }
    }

    static func cluster(_ prefix: String) async throws -> Cluster {
        let nodes = try await TwoNodeCluster.start(prefix, adminPassword: password)
        let admin = nodes.a.client()
        #expect(try await admin.postJSON("/api/v1/auth/login", ["email": "admin@example.com", "password": password]).status == 200)
        return Cluster(nodes: nodes, admin: admin)
    }

    /// Sends `route` with placeholder ids: the permission check comes before any look-up.
    static func request(_ route: PortalRouter.RouteEntry, as client: HTTPTestClient, csrf: String) async throws -> HTTPTestClient.Response {
        let path = route.path.replacing(/\{[a-z_]+\}|:[a-z_]+/) { _ in UUID().uuidString.lowercased() }
        switch (route.method, path.hasPrefix("/api/")) {
        case ("GET", _): return try await client.get(path)
        case (_, true): return try await client.send(route.method, path, headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        default: return try await client.postForm(path, ["_csrf": csrf])
        }
    }

    static func missingPermission(_ response: HTTPTestClient.Response) -> String? {
        response.body.firstMatch(of: /staff permission ([a-z._]+)/).map { String($0.1) }
    }

    @Test func everyStaffRouteRefusesStaffWithoutItsPermissionAndAdmitsStaffWithIt() async throws {
        let routes = try await PortalRouter.registeredRoutes().filter { Self.isStaffRoute($0.path) && ["GET", "POST", "PUT", "PATCH", "DELETE"].contains($0.method) }
        #expect(routes.count > 60)
        let cluster = try await Self.cluster("staffwalk")
        defer { cluster.stop() }
        let roles = try await cluster.rolePerPermission()
        let walker = try await cluster.invite("Walker", roles: [])
        let csrf = try #require(NodeLiveTests.csrfToken(in: try await walker.client.get("/admin").body))
        let client = cluster.b.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "cleo@example.com", "password": Self.password, "name": "Cleo"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": "cleo@example.com", "password": Self.password]).status == 200)
        let clientCSRF = try #require(NodeLiveTests.csrfToken(in: try await client.get("/clientarea").body))
        let visitor = cluster.b.client()

        // Without any role: 403 naming the permission, except the few routes for every member of staff.
        var needs: [String: [PortalRouter.RouteEntry]] = [:]
        for route in routes {
            let response = try await Self.request(route, as: walker.client, csrf: csrf)
            if response.status == 403, let permission = Self.missingPermission(response) {
                #expect(Self.permissions.contains(permission), "\(route) names an unknown permission \(permission)")
                needs[permission, default: []].append(route)
            } else {
                #expect(Self.anyStaff.contains(route.description), "\(route) answered \(response.status) to staff without any role: it has no permission guard")
            }
            // Clients never reach a staff route; visitors must log in.
            let asClient = try await Self.request(route, as: client, csrf: clientCSRF)
            #expect(asClient.status == 403, "\(route) answered \(asClient.status) to a client")
            if route.method == "GET" || route.path.hasPrefix("/api/") {
                let asVisitor = try await Self.request(route, as: visitor, csrf: "")
                #expect(asVisitor.status == (route.path.hasPrefix("/api/") ? 401 : 303), "\(route) answered \(asVisitor.status) to a visitor")
            }
        }
        #expect(Set(needs.keys) == Set(Self.permissions), "permissions no route needs: \(Set(Self.permissions).subtracting(needs.keys))")

        // With exactly that permission (granted on node A, used on node B): admitted. With every
        // other permission but that one: still 403.
        for (permission, guarded) in needs.sorted(by: { $0.key < $1.key }) {
            let only = try await cluster.admin.send("PUT", "/api/v1/admin/staff/\(walker.id)", headers: ["Content-Type": "application/json"], body: Array(try JSONSerialization.data(withJSONObject: ["roles": [roles[permission]!]])))
            #expect(only.status == 200, "\(only.body)")
            for route in guarded {
                let response = try await Self.request(route, as: walker.client, csrf: csrf)
                #expect(response.status != 403 && response.status != 401, "\(route) answered \(response.status) to staff with \(permission): \(response.body.prefix(200))")
            }
            let others = roles.filter { $0.key != permission }.map(\.value)
            let allBut = try await cluster.admin.send("PUT", "/api/v1/admin/staff/\(walker.id)", headers: ["Content-Type": "application/json"], body: Array(try JSONSerialization.data(withJSONObject: ["roles": others])))
            #expect(allBut.status == 200, "\(allBut.body)")
            for route in guarded {
                let response = try await Self.request(route, as: walker.client, csrf: csrf)
                #expect(response.status == 403 && Self.missingPermission(response) == permission, "\(route) answered \(response.status) to staff with every permission but \(permission)")
            }
        }
    }

    @Test func disablingOnOneNodeStopsTheSessionAndTokenOnTheOtherAtOnce() async throws {
        let cluster = try await Self.cluster("staffoff")
        defer { cluster.stop() }
        let roles = try await cluster.rolePerPermission()
        let dora = try await cluster.invite("Dora", roles: [roles["clients.read"]!, roles["api.tokens"]!])
        let minted = try await dora.client.postJSON("/api/v1/admin/api-tokens", ["name": "laptop"])
        #expect(minted.status == 201, "\(minted.body)")
        let token = try #require(minted.json["token"] as? String)
        #expect(Set(minted.json["scopes"] as? [String] ?? []) == ["clients.read", "api.tokens"])
        let bearer = cluster.b.client()
        #expect(try await dora.client.get("/api/v1/admin/clients").status == 200)
        #expect(try await bearer.get("/api/v1/admin/clients", headers: ["Authorization": "Bearer \(token)"]).status == 200)

        // Disabled on node A; the very next requests on node B are refused.
        let disabled = try await cluster.admin.send("PUT", "/api/v1/admin/staff/\(dora.id)", headers: ["Content-Type": "application/json"], body: Array(#"{"disabled": true}"#.utf8))
        #expect(disabled.status == 200 && disabled.json["disabled"] as? Bool == true, "\(disabled.body)")
        #expect(try await dora.client.get("/api/v1/admin/clients").status == 401)
        #expect(try await bearer.get("/api/v1/admin/clients", headers: ["Authorization": "Bearer \(token)"]).status == 401)
        #expect(try await dora.client.get("/admin/clients").status == 303)
        #expect(try await cluster.b.client().postJSON("/api/v1/auth/login", ["email": dora.email, "password": Self.password]).status == 401)
        // The staff list says so; enabled again, the token works again and she can log in.
        let list = try await cluster.admin.get("/api/v1/admin/staff")
        #expect((list.json["items"] as? [[String: Any]])?.first { $0["id"] as? String == dora.id }?["disabled"] as? Bool == true)
        #expect(try await cluster.admin.send("PUT", "/api/v1/admin/staff/\(dora.id)", headers: ["Content-Type": "application/json"], body: Array(#"{"disabled": false}"#.utf8)).status == 200)
        #expect(try await bearer.get("/api/v1/admin/clients", headers: ["Authorization": "Bearer \(token)"]).status == 200)
        #expect(try await cluster.b.client().postJSON("/api/v1/auth/login", ["email": dora.email, "password": Self.password]).status == 200)
    }

    @Test func tokenScopesHoldOnEveryNodeAndATokenNeverMintsAWiderOne() async throws {
        let cluster = try await Self.cluster("staffscope")
        defer { cluster.stop() }
        let reader = try await cluster.admin.postJSON("/api/v1/admin/api-tokens", ["name": "reader", "scopes": ["clients.read"], "expires_in": "1h"])
        #expect(reader.status == 201, "\(reader.body)")
        #expect(reader.json["expires_at"] as? String != nil)
        let readToken = try #require(reader.json["token"] as? String)
        let onB = cluster.b.client()
        let bearer = { (token: String) in ["Authorization": "Bearer \(token)"] }
        #expect(try await onB.get("/api/v1/admin/clients", headers: bearer(readToken)).status == 200)
        let refused = try await onB.get("/api/v1/admin/products", headers: bearer(readToken))
        #expect(refused.status == 403 && Self.missingPermission(refused) == "catalogue.manage")
        #expect(try await onB.postJSON("/api/v1/admin/api-tokens", ["name": "more"], headers: bearer(readToken)).status == 403)

        let minter = try await cluster.admin.postJSON("/api/v1/admin/api-tokens", ["name": "minter", "scopes": ["clients.read", "api.tokens"], "expires_in": "1h"])
        let mintToken = try #require(minter.json["token"] as? String)
        let wider = try await onB.postJSON("/api/v1/admin/api-tokens", ["name": "wider", "scopes": ["clients.read", "billing.refund"]], headers: bearer(mintToken))
        #expect(wider.status == 403 && wider.body.contains("billing.refund"), "\(wider.body)")
        let longer = try await onB.postJSON("/api/v1/admin/api-tokens", ["name": "longer", "expires_in": "2h"], headers: bearer(mintToken))
        #expect(longer.status == 400 && longer.error["field"] as? String == "expires_in", "\(longer.body)")
        let child = try await onB.postJSON("/api/v1/admin/api-tokens", ["name": "child"], headers: bearer(mintToken))
        #expect(child.status == 201, "\(child.body)")
        #expect(Set(child.json["scopes"] as? [String] ?? []) == ["clients.read", "api.tokens"])
        #expect(child.json["expires_at"] as? String == minter.json["expires_at"] as? String)
        let bad = try await cluster.admin.postJSON("/api/v1/admin/api-tokens", ["name": "bad", "scopes": ["billing.everything"]])
        #expect(bad.status == 400 && bad.error["field"] as? String == "scopes")
        // A token lists and revokes only its owner's tokens.
        let listed = try await onB.get("/api/v1/admin/api-tokens", headers: bearer(mintToken))
        #expect((listed.json["items"] as? [[String: Any]])?.count == 3)
    }
}
