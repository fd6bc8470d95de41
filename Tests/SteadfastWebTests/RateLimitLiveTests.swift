import Foundation
import SteadfastTestSupport
import Testing

/// Rate limits hold across the cluster: two nodes on one PostgreSQL share every count.
@Suite(.serialized) struct RateLimitLiveTests {
    static let password = "correct horse battery"

    @Test func limitsAreSharedByEveryNodeAndAnswer429WithRetryAfter() async throws {
        let server = try await PostgresServer.shared()
        let url = server.url(database: try await server.createDatabase(prefix: "ratelimit"))
        let arguments = [
            "--admin-email", "staff@example.com", "--admin-password", Self.password,
            "--set", "security.rate_limit.login_per_account=3/1h", "--set", "security.rate_limit.login_per_ip=1000/1h",
            "--set", "security.rate_limit.register_per_ip=3/1h", "--set", "security.rate_limit.api_token=4/1h",
        ]
        let a = try await SteadfastNode.start(name: "rl-a", database: url, arguments: arguments, rateLimits: true)
        let b = try await SteadfastNode.start(name: "rl-b", database: url, arguments: arguments, rateLimits: true)
        defer {
            a.process.send(SIGKILL)
            b.process.send(SIGKILL)
        }

        // Staff log in on a (attempt 1 of 3 for the account), then someone guesses on b and a.
        let staff = a.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": Self.password]).status == 200)
        let guesser = a.client()
        for node in [b, a] {
            let answer = try await guesser.pointed(at: node.baseURL).postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": "guess \(UUID())"])
            #expect(answer.status == 401)
        }
        // The limit is spent on both nodes, even for the right password.
        for node in [b, a] {
            let refused = try await node.client().postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": Self.password])
            #expect(refused.status == 429)
            #expect(Int(refused.header("Retry-After") ?? "").map { (1...3600).contains($0) } == true, "Retry-After: \(refused.header("Retry-After") ?? "none")")
            #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "too_many_requests")
        }
        // The HTML log-in form is the same door.
        let form = b.client()
        let page = try await form.get("/login")
        let token = try #require(NodeLiveTests.csrfToken(in: page.body))
        #expect(try await form.postForm("/login", ["_csrf": token, "email": "staff@example.com", "password": Self.password]).status == 429)

        // Registrations from one address: the fourth, on either node, is refused.
        for (i, node) in [a, b, a].enumerated() {
            #expect(try await node.client().postJSON("/api/v1/auth/register", ["email": "c\(i)@example.com", "password": Self.password, "name": "C"]).status == 201)
        }
        #expect(try await b.client().postJSON("/api/v1/auth/register", ["email": "c9@example.com", "password": Self.password, "name": "C"]).status == 429)

        // An API token's requests, counted across nodes.
        let created = try await staff.postJSON("/api/v1/admin/api-tokens", ["name": "robot"])
        let bearer = try #require(created.json["token"] as? String)
        let headers = ["Authorization": "Bearer \(bearer)"]
        for node in [a, b, a, b] {
            #expect(try await node.client().get("/api/v1/admin/clients", headers: headers).status == 200)
        }
        #expect(try await a.client().get("/api/v1/admin/clients", headers: headers).status == 429)
        // The staff session itself is not an API token: it is not limited by it.
        #expect(try await staff.get("/api/v1/admin/clients").status == 200)
    }
}
