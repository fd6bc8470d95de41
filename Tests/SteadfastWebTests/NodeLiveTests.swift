import AsyncHTTPClient
import Foundation
import NIOCore
import SteadfastTestSupport
import Testing

/// Live tests of one real `steadfast serve` process on SQLite (the zero-setup default).
@Suite(.serialized) struct NodeLiveTests {
    static let password = "correct horse battery"

    /// Registers and logs in a new client through the API; returns the client (with cookie).
    static func loggedInClient(_ node: SteadfastNode, email: String = "client-\(UUID().uuidString.prefix(8))@example.com") async throws -> HTTPTestClient {
        let client = node.client()
        let registered = try await client.postJSON("/api/v1/auth/register", ["email": email, "password": password, "name": "Client"])
        #expect(registered.status == 201)
        let login = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": password])
        #expect(login.status == 200)
        return client
    }

    @Test func zeroConfigurationStartServesAndCreatesTheFirstStaffAccount() async throws {
        let node = try await SteadfastNode.start(name: "zero", bcryptCost: nil)
        defer { node.process.send(SIGKILL) }
        let credentials = try await node.process.waitForMatch("log in at (http://\\S+)/login as (\\S+) with password (\\S+)")
        #expect(credentials[1] == node.baseURL)
        #expect(credentials[2] == "admin@steadfast.local")
        let client = node.client()
        #expect(try await client.get("/healthz").status == 200)
        let ready = try await client.get("/readyz")
        #expect(ready.status == 200)
        let checks = ready.json["checks"] as? [String: Any]
        #expect(Set(checks?.keys ?? [:].keys) == ["database", "storage"])
        let login = try await client.postJSON("/api/v1/auth/login", ["email": credentials[2], "password": credentials[3]])
        #expect(login.status == 200)
        #expect(login.json["role"] as? String == "staff")
        #expect(FileManager.default.fileExists(atPath: node.workingDirectory.appendingPathComponent("steadfast-data/steadfast.sqlite").path))
        #expect(FileManager.default.fileExists(atPath: node.workingDirectory.appendingPathComponent("steadfast-data/files").path))
    }

    @Test func apiAccountLifecycle() async throws {
        let node = try await SteadfastNode.start(name: "api")
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        let registered = try await client.postJSON("/api/v1/auth/register", ["email": "Alice@Example.com", "password": Self.password, "name": "Alice"])
        #expect(registered.status == 201)
        let id = try #require(registered.json["id"] as? String)
        #expect(UUID(uuidString: id) != nil)
        #expect(registered.json["role"] as? String == "client")
        #expect(registered.json["password_hash"] == nil && !registered.body.contains("$2b$"))

        let duplicate = try await client.postJSON("/api/v1/auth/register", ["email": "alice@example.com", "password": Self.password, "name": "A"])
        #expect(duplicate.status == 409)
        #expect((duplicate.json["error"] as? [String: Any])?["code"] as? String == "duplicate_email")
        #expect((duplicate.json["error"] as? [String: Any])?["field"] as? String == "email")

        let weak = try await client.postJSON("/api/v1/auth/register", ["email": "bob@example.com", "password": "short", "name": "Bob"])
        #expect(weak.status == 400)
        #expect((weak.json["error"] as? [String: Any])?["field"] as? String == "password")

        let wrongPassword = try await client.postJSON("/api/v1/auth/login", ["email": "alice@example.com", "password": "not the password"])
        let unknownEmail = try await client.postJSON("/api/v1/auth/login", ["email": "nobody@example.com", "password": Self.password])
        #expect(wrongPassword.status == 401 && unknownEmail.status == 401)
        #expect((wrongPassword.json["error"] as? [String: Any])?["message"] as? String == (unknownEmail.json["error"] as? [String: Any])?["message"] as? String)
        #expect(try await client.get("/api/v1/me").status == 401)

        let login = try await client.postJSON("/api/v1/auth/login", ["email": "alice@example.com", "password": Self.password])
        #expect(login.status == 200)
        let cookie = try #require(login.setCookies.first { $0.hasPrefix("steadfast_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
        let me = try await client.get("/api/v1/me")
        #expect(me.status == 200)
        #expect(me.json["id"] as? String == id)
        #expect(me.json["email"] as? String == "Alice@Example.com")

        let stolen = try #require(client.cookies["steadfast_session"])
        #expect(try await client.postJSON("/api/v1/auth/logout", [:]).status == 204)
        #expect(client.cookies["steadfast_session"] == nil)
        #expect(try await client.get("/api/v1/me", headers: ["Cookie": "steadfast_session=\(stolen)"]).status == 401)
    }

    @Test func badInputGetsClearErrorsNeverACrash() async throws {
        let node = try await SteadfastNode.start(name: "input", arguments: ["--set", "http.max_body_size=1KiB"])
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        let malformed = try await client.send("POST", "/api/v1/auth/register", headers: ["Content-Type": "application/json"], body: Array("{not json".utf8))
        #expect(malformed.status == 400)
        #expect(malformed.json["error"] != nil)
        let missing = try await client.postJSON("/api/v1/auth/register", ["email": "x@example.com"])
        #expect(missing.status == 400)
        let huge = try await client.postJSON("/api/v1/auth/register", ["email": "x@example.com", "password": String(repeating: "p", count: 4000), "name": "X"])
        #expect(huge.status == 413)
        let chunkedHuge = try await client.send("POST", "/api/v1/auth/login", headers: ["Content-Type": "application/json", "Transfer-Encoding": "chunked"], body: Array(String(repeating: " ", count: 5000).utf8))
        #expect(chunkedHuge.status == 413)
        let plain = try await client.send("POST", "/api/v1/auth/login", headers: ["Content-Type": "text/plain"], body: Array("{}".utf8))
        #expect(plain.status == 415)
        let notFoundAPI = try await client.get("/api/v1/nothing-here")
        #expect(notFoundAPI.status == 404 && notFoundAPI.header("Content-Type")?.contains("json") == true)
        let notFoundPage = try await client.get("/nothing-here")
        #expect(notFoundPage.status == 404 && notFoundPage.header("Content-Type")?.contains("html") == true)
        // The test card gateway is off by default, and so is its webhook: 404 like any unknown route.
        let webhook = try await client.send("POST", "/api/v1/gateways/testcard/webhook", headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        #expect(webhook.status == 404 && webhook.header("Content-Type")?.contains("json") == true)
        #expect(try await client.get("/healthz").status == 200)
    }

    @Test func sessionIdRotatesOnLogInAndTheOldIdDies() async throws {
        let node = try await SteadfastNode.start(name: "rotate")
        defer { node.process.send(SIGKILL) }
        let client = try await Self.loggedInClient(node, email: "rot@example.com")
        let first = try #require(client.cookies["steadfast_session"])
        let again = try await client.postJSON("/api/v1/auth/login", ["email": "rot@example.com", "password": Self.password])
        #expect(again.status == 200)
        let second = try #require(client.cookies["steadfast_session"])
        #expect(first != second)
        #expect(try await client.get("/api/v1/me", headers: ["Cookie": "steadfast_session=\(first)"]).status == 401)
        #expect(try await client.get("/api/v1/me").status == 200)
    }

    @Test func aTamperedSessionCookieIsRejected() async throws {
        let node = try await SteadfastNode.start(name: "tamper")
        defer { node.process.send(SIGKILL) }
        let client = try await Self.loggedInClient(node)
        let cookie = try #require(client.cookies["steadfast_session"])
        var characters = Array(cookie)
        characters[5] = characters[5] == "A" ? "B" : "A"
        for forged in [String(characters), cookie + "x", "", "../../etc/passwd", String(repeating: "A", count: 44)] {
            #expect(try await client.get("/api/v1/me", headers: ["Cookie": "steadfast_session=\(forged)"]).status == 401)
        }
        #expect(try await client.get("/api/v1/me").status == 200)
    }

    /// Served over HTTPS, every cookie is `Secure` and `__Host-` prefixed, so a sibling
    /// subdomain can neither plant nor overwrite the session or CSRF cookie.
    @Test func cookiesAreHostPrefixedOverHTTPS() async throws {
        let node = try await SteadfastNode.start(name: "host-cookies", arguments: ["--set", "session.secure_cookies=always"])
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        let page = try await client.get("/login")
        let csrf = try #require(page.setCookies.first)
        #expect(csrf.hasPrefix("__Host-steadfast_csrf=") && csrf.contains("Secure") && csrf.contains("Path=/") && !csrf.lowercased().contains("domain="))
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "hc@example.com", "password": Self.password, "name": "H"]).status == 201)
        let login = try await client.postJSON("/api/v1/auth/login", ["email": "hc@example.com", "password": Self.password])
        let session = try #require(login.setCookies.first { $0.contains("steadfast_session=") })
        #expect(session.hasPrefix("__Host-steadfast_session=") && session.contains("Secure") && session.contains("Path=/"))
        let value = String(session.dropFirst("__Host-steadfast_session=".count).prefix { $0 != ";" })
        #expect(try await node.client().get("/api/v1/me", headers: ["Cookie": "__Host-steadfast_session=\(value)"]).status == 200)
        #expect(try await node.client().get("/api/v1/me", headers: ["Cookie": "steadfast_session=\(value)"]).status == 401)
    }

    @Test func htmlFormsRequireACSRFToken() async throws {
        let node = try await SteadfastNode.start(name: "csrf")
        defer { node.process.send(SIGKILL) }
        let browser = node.client()
        let page = try await browser.get("/register")
        #expect(page.status == 200)
        let token = try #require(Self.csrfToken(in: page.body))
        #expect(browser.cookies["steadfast_csrf"] != nil)
        let fields = ["name": "Carol", "email": "carol@example.com", "password": Self.password]

        let withoutToken = try await browser.postForm("/register", fields)
        #expect(withoutToken.status == 403)
        var forged = fields
        forged["_csrf"] = String(token.reversed())
        #expect(try await browser.postForm("/register", forged).status == 403)
        // A token without the matching cookie (another browser) is refused too.
        let other = node.client()
        var stolen = fields
        stolen["_csrf"] = token
        #expect(try await other.postForm("/register", stolen).status == 403)

        var good = fields
        good["_csrf"] = token
        let registered = try await browser.postForm("/register", good)
        #expect(registered.status == 303)
        #expect(registered.header("Location") == "/clientarea")
        let area = try await browser.get("/clientarea")
        #expect(area.status == 200 && area.body.contains("carol@example.com"))

        // The token from before the log-in is bound to no session: with the new session it is refused.
        #expect(try await browser.postForm("/logout", ["_csrf": token]).status == 403)
        let logout = try await browser.postForm("/logout", ["_csrf": try #require(Self.csrfToken(in: area.body))])
        #expect(logout.status == 303)
        let after = try await browser.get("/clientarea")
        #expect(after.status == 303 && after.header("Location") == "/login")

        let loginPage = try await browser.get("/login")
        let wrong = try await browser.postForm("/login", ["_csrf": try #require(Self.csrfToken(in: loginPage.body)), "email": "carol@example.com", "password": "nope nope nope"])
        #expect(wrong.status == 401 && wrong.body.contains("incorrect"))
        let right = try await browser.postForm("/login", ["_csrf": try #require(Self.csrfToken(in: loginPage.body)), "email": "carol@example.com", "password": Self.password])
        #expect(right.status == 303 && right.header("Location") == "/clientarea")
    }

    @Test func onlyStaffReachTheAdminArea() async throws {
        let node = try await SteadfastNode.start(name: "admin", arguments: ["--admin-email", "boss@example.com", "--admin-password", "staff passphrase 1"])
        defer { node.process.send(SIGKILL) }
        let anonymous = node.client()
        let redirect = try await anonymous.get("/admin")
        #expect(redirect.status == 303 && redirect.header("Location") == "/login")
        let client = try await Self.loggedInClient(node)
        let forbidden = try await client.get("/admin")
        #expect(forbidden.status == 403 && forbidden.body.contains("staff only"))
        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "boss@example.com", "password": "staff passphrase 1"]).status == 200)
        let admin = try await staff.get("/admin")
        #expect(admin.status == 200 && admin.body.contains("Administration"))
    }

    @Test func forwardedHeadersAreBelievedOnlyFromTrustedProxies() async throws {
        let trusted = try await SteadfastNode.start(name: "trusted", arguments: ["--trusted-proxy", "127.0.0.1/32"])
        let untrusted = try await SteadfastNode.start(name: "untrusted")
        defer {
            trusted.process.send(SIGKILL)
            untrusted.process.send(SIGKILL)
        }
        let headers = ["X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"]
        for node in [trusted, untrusted] {
            let client = node.client()
            _ = try await client.postJSON("/api/v1/auth/register", ["email": "p@example.com", "password": Self.password, "name": "P"])
            let login = try await client.postJSON("/api/v1/auth/login", ["email": "p@example.com", "password": Self.password], headers: headers)
            let cookie = try #require(login.setCookies.first { $0.hasPrefix("steadfast_session=") })
            #expect(cookie.contains("Secure") == (node === trusted))
        }
        #expect(await eventually { trusted.process.stderr.contains("client.address=203.0.113.7") })
        #expect(!untrusted.process.stderr.contains("203.0.113.7"))
    }

    @Test func requestIDsAreHonouredAndMetricsExported() async throws {
        let node = try await SteadfastNode.start(name: "metrics")
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        let echoed = try await client.get("/api/v1/me", headers: ["X-Request-ID": "lb-abc-123"])
        #expect(echoed.header("X-Request-ID") == "lb-abc-123")
        #expect(echoed.json["request_id"] as? String == "lb-abc-123")
        let replaced = try await client.get("/healthz", headers: ["X-Request-ID": "bad id with spaces"])
        #expect(replaced.header("X-Request-ID").map { $0 != "bad id with spaces" && !$0.isEmpty } == true)
        #expect(await eventually { node.process.stderr.contains("steadfast.request.id=lb-abc-123") })
        let metrics = try await client.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("hb_requests{http_route=\"/api/v1/me\",http_request_method=\"GET\",http_response_status_code=\"401\"} 1"))
        #expect(metrics.body.contains("http_server_request_duration_bucket{http_route=\"/healthz\""))
    }

    @Test func readinessNamesTheFailingCheck() async throws {
        let node = try await SteadfastNode.start(name: "ready")
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        #expect(try await client.get("/readyz").status == 200)
        try FileManager.default.removeItem(at: node.workingDirectory.appendingPathComponent("steadfast-data/files"))
        let failing = try await client.get("/readyz")
        #expect(failing.status == 503)
        #expect(failing.json["failing"] as? [String] == ["storage"])
        #expect(try await client.get("/healthz").status == 200)
    }

    @Test func sigtermTurnsReadinessOffThenExitsCleanly() async throws {
        let node = try await SteadfastNode.start(name: "drain", drainDelay: "5s")
        let client = node.client()
        #expect(try await client.get("/readyz").status == 200)
        node.process.send(SIGTERM)
        // The promise: for the drain delay, readiness is off while the node still serves. Both
        // are checked in one round, so a slow machine cannot see the 503 at the end of the
        // delay and then find the node gone (the old test waited as long as the delay itself).
        let sawDrainingWhileServing = await eventually(timeout: .seconds(5), interval: .milliseconds(50)) {
            let ready = try? await client.get("/readyz", headers: ["Connection": "close"])
            let alive = try? await client.get("/healthz", headers: ["Connection": "close"])
            return ready?.status == 503 && alive?.status == 200
        }
        #expect(sawDrainingWhileServing)
        #expect(try await node.process.waitForExit(timeout: .seconds(30)) == 0)
    }

    /// SIGTERM while the node is still setting up (its database is unreachable, so set-up
    /// waits): it stops at once and cleanly, exit status 0 — a stop asked for, not a failure
    /// (it used to exit 1 with "Error: CancellationError()").
    @Test func sigtermDuringSetUpStopsCleanly() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-setup-stop")
        let port = try FreePort.next()  // nothing listens there
        let process = try ManagedProcess(
            name: "setup-stop", executable: TestPaths.steadfastBinary,
            arguments: ["serve", "--port", "0", "--node-id", "setup-stop", "--drain-delay", "5s", "--database", "postgres://steadfast@127.0.0.1:\(port)/none"],
            workingDirectory: directory, logDirectory: directory
        )
        // Set-up waits for a primary (its first transaction allows 120 s): the database is found
        // unreachable at once.
        try await waitUntil("set-up waiting for the database (stderr: \(process.stderr.suffix(2000)))", timeout: .seconds(60)) {
            process.stderr.contains("steadfast.db.to=unreachable")
        }
        process.send(SIGTERM)
        #expect(try await process.waitForExit(timeout: .seconds(30)) == 0, "stderr: \(process.stderr)")
        let output = process.stdout + process.stderr
        #expect(output.contains("stopped during set-up"))
        #expect(!output.contains("listening on"))
        #expect(!output.contains("CancellationError"))
    }

    @Test func inFlightRequestsFinishDuringShutdown() async throws {
        let node = try await SteadfastNode.start(name: "inflight")
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "slow@example.com", "password": Self.password, "name": "S"]).status == 201)
        // The log-in's body is sent in two parts, the second held back by the test: the request
        // is in flight (the node has its head and its handler waits for the rest) for as long as
        // the test likes, so it is still in flight when the listener closes however slowly
        // either process runs. (A slow bcrypt check gave the test about a second to see it in
        // flight and send SIGTERM, which a starved test process could miss.)
        let body = Array(try JSONSerialization.data(withJSONObject: ["email": "slow@example.com", "password": Self.password]))
        let (parts, feed) = AsyncStream.makeStream(of: ByteBuffer.self)
        var request = HTTPClientRequest(url: node.baseURL + "/api/v1/auth/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .stream(parts, length: .known(Int64(body.count)))
        feed.yield(ByteBuffer(bytes: body.prefix(body.count / 2)))
        async let login = HTTPClient.shared.execute(request, timeout: .seconds(120))
        // SIGTERM only once the node is working on the log-in (its active-requests gauge says so).
        let inFlight = await eventually(timeout: .seconds(30), interval: .milliseconds(20)) {
            (try? await node.client().get("/metrics"))?.body.contains(#"http_server_active_requests{http_request_method="POST"} 1.0"#) == true
        }
        #expect(inFlight)
        node.process.send(SIGTERM)
        // The rest of the body only once the node is shutting down: past its drain, a new request
        // is no longer answered.
        let closing = await eventually(timeout: .seconds(30), interval: .milliseconds(20)) {
            guard node.process.stderr.contains("closing the listener and finishing in-flight requests") else { return false }
            return (try? await node.client().get("/healthz", headers: ["Connection": "close"], timeout: .seconds(5))) == nil
        }
        #expect(closing, "the node did not stop taking requests: \(node.process.stderr.suffix(2000))")
        feed.yield(ByteBuffer(bytes: body.dropFirst(body.count / 2)))
        feed.finish()
        let answer = try await login
        #expect(answer.status == .ok)
        #expect(try await node.process.waitForExit(timeout: .seconds(30)) == 0)
    }

    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
