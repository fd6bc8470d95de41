import Foundation
import SteadfastTestSupport
import Testing

/// Promises of docs/ha-postgres.md and docs/security.md that had no test, each checked against
/// real `steadfast serve` processes (and the real `steadfast` binary), so each fails when its
/// promise is broken.
@Suite(.timeLimit(.minutes(4))) struct DocumentedPromisesLiveTests {
    static let password = "correct horse battery"
    static let staffEmail = "boss@example.com"
    static let staffPassword = "staff passphrase 1"

    /// Registers and logs in `email` through the API on `node`.
    static func loggedIn(_ node: SteadfastNode, email: String) async throws -> HTTPTestClient {
        let client = node.client()
        let registered = try await client.postJSON("/api/v1/auth/register", ["email": email, "password": password, "name": "Client"])
        guard registered.status == 201 else { throw HarnessError("register failed: \(registered.status) \(registered.body)") }
        let login = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": password])
        guard login.status == 200 else { throw HarnessError("log-in failed: \(login.status) \(login.body)") }
        return client
    }

    /// The `database` check of a `/readyz` answer.
    static func databaseCheck(_ ready: HTTPTestClient.Response) -> [String: Any] {
        (ready.json["checks"] as? [String: Any])?["database"] as? [String: Any] ?? [:]
    }

    static func roles(_ check: [String: Any]) -> [String] {
        (check["hosts"] as? [[String: Any]] ?? []).map { $0["role"] as? String ?? "?" }
    }

    // MARK: docs/ha-postgres.md

    /// "Every request's database work ... ends within `database.timeout`; the client then gets
    /// `503` with `Retry-After: 1`" — for JSON under /api/ and for HTML pages alike.
    @Test func aDatabaseOutageAnswers503WithRetryAfter() async throws {
        let own = try await PostgresServer.start()
        defer { own.stop() }
        let database = try await own.createDatabase(prefix: "outage")
        let node = try await SteadfastNode.start(name: "outage", database: own.url(database: database), arguments: ["--set", "database.timeout=1s"])
        defer { node.process.send(SIGKILL) }
        let client = try await Self.loggedIn(node, email: "outage@example.com")
        await own.stopAndWait()

        // A write that needs the database (no session involved).
        let anonymous = node.client()
        let register = try await anonymous.postJSON(
            "/api/v1/auth/register", ["email": "late@example.com", "password": Self.password, "name": "Late"], timeout: .seconds(10)
        )
        #expect(register.status == 503, "\(register.status) \(register.body)")
        #expect(register.header("Retry-After") == "1", "Retry-After: \(register.header("Retry-After") ?? "none")")
        #expect((register.json["error"] as? [String: Any])?["code"] as? String == "database_unavailable", "\(register.body)")

        // An HTML page that needs the database.
        let page = try await client.get("/clientarea/invoices", timeout: .seconds(10))
        #expect(page.status == 503, "\(page.status)")
        #expect(page.header("Retry-After") == "1", "Retry-After: \(page.header("Retry-After") ?? "none")")
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        // An error page like any other (docs/security.md).
        #expect(page.header("X-Frame-Options") == "DENY" && page.header("X-Content-Type-Options") == "nosniff")
        #expect(page.header("Cache-Control")?.contains("no-store") == true && page.header("Content-Security-Policy")?.isEmpty == false)
    }

    /// A session that cannot be read because the database is down is a 503, not a log-out: no
    /// 401, no redirect to /login, the cookie is kept, and the session works again afterwards.
    @Test func aSessionDuringAnOutageIs503NotLoggedOut() async throws {
        // Commits reach the WAL before they are acknowledged, so the crash below keeps the session.
        let own = try await PostgresServer.start(settings: ["synchronous_commit": "on"])
        defer { own.stop() }
        let database = try await own.createDatabase(prefix: "sessdown")
        let node = try await SteadfastNode.start(name: "sessdown", database: own.url(database: database), arguments: ["--set", "database.timeout=1s"])
        defer { node.process.send(SIGKILL) }
        let client = try await Self.loggedIn(node, email: "session@example.com")
        let cookie = try #require(client.cookies["steadfast_session"])
        #expect(try await client.get("/api/v1/me").status == 200)
        #expect(try await client.get("/clientarea").status == 200)
        await own.stopAndWait()

        let me = try await client.get("/api/v1/me", timeout: .seconds(10))
        #expect(me.status == 503, "GET /api/v1/me with a session while the database is down answered \(me.status): \(me.body)")
        #expect(me.header("Retry-After") == "1")
        let page = try await client.get("/clientarea", timeout: .seconds(10))
        #expect(page.status == 503, "GET /clientarea answered \(page.status) Location: \(page.header("Location") ?? "-")")
        #expect(page.header("Location") == nil, "redirected to \(page.header("Location") ?? "")")
        #expect(client.cookies["steadfast_session"] == cookie, "the session cookie was dropped")
        // Probes carry no session: /healthz stays 200 while the process lives, and /readyz answers
        // its own JSON, even from a client that sends a session cookie (a browser, an operator).
        let live = try await client.get("/healthz", timeout: .seconds(10))
        #expect(live.status == 200, "/healthz with a session cookie during the outage answered \(live.status)")
        let ready = try await client.get("/readyz", timeout: .seconds(10))
        #expect(ready.status == 503 && (ready.json["failing"] as? [String]) == ["database"], "/readyz answered \(ready.status): \(ready.body.prefix(200))")

        // The database returns: the same session is still logged in.
        try await own.restart()
        var answer: HTTPTestClient.Response?
        let back = await eventually(timeout: .seconds(20)) {
            answer = try? await client.get("/api/v1/me", timeout: .seconds(10))
            return answer?.status == 200
        }
        #expect(back, "the session did not work again after the outage: \(answer?.status ?? 0) \(answer?.body ?? "")\n\(node.process.stderr.suffix(3000))")
    }

    /// "With no reachable primary but a usable standby the check is `degraded` and the node stays
    /// ready (reads work, writes answer 503); with no reachable server it fails and `/readyz`
    /// answers 503."
    @Test func withOnlyAStandbyReadinessIsDegradedButReady() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let database = try await set.createDatabase(prefix: "degraded")
        let node = try await SteadfastNode.start(name: "degraded", database: set.url(database: database), arguments: [
            "--set", "database.timeout=1s", "--set", "database.monitor_interval=500ms",
        ])
        defer { node.process.send(SIGKILL) }
        let client = try await Self.loggedIn(node, email: "reader@example.com")
        let healthy = try await client.get("/readyz")
        #expect(healthy.status == 200)
        #expect(Self.databaseCheck(healthy)["status"] as? String == "ok", "\(healthy.body)")
        #expect(healthy.json["degraded"] as? [String] == [], "\(healthy.body)")
        #expect(Self.roles(Self.databaseCheck(healthy)) == ["primary", "standby"], "\(healthy.body)")

        await set.servers[0].killHard()
        // The monitor probes once per interval and on every failure: a couple of intervals at most.
        var last: HTTPTestClient.Response?
        let degraded = await eventually(timeout: .seconds(10)) {
            last = try? await client.get("/readyz")
            return last.map { Self.databaseCheck($0)["status"] as? String == "degraded" } ?? false
        }
        #expect(degraded, "never degraded: \(last?.status ?? 0) \(last?.body ?? "")")
        let ready = try #require(last)
        #expect(ready.status == 200, "a degraded node must stay ready: \(ready.status) \(ready.body)")
        #expect(ready.json["status"] as? String == "ready", "\(ready.body)")
        #expect(ready.json["degraded"] as? [String] == ["database"], "\(ready.body)")
        #expect(ready.json["failing"] as? [String] == [], "\(ready.body)")
        #expect(Self.roles(Self.databaseCheck(ready)) == ["unreachable", "standby"], "\(ready.body)")

        // Reads work (the session and the logged-in account come from the standby); writes are 503.
        let me = try await client.get("/api/v1/me", timeout: .seconds(10))
        #expect(me.status == 200 && me.json["email"] as? String == "reader@example.com", "\(me.status) \(me.body)")
        let write = try await node.client().postJSON(
            "/api/v1/auth/register", ["email": "writer@example.com", "password": Self.password, "name": "W"], timeout: .seconds(10)
        )
        #expect(write.status == 503, "\(write.status) \(write.body)")
        #expect(write.header("Retry-After") == "1")

        // No server at all: the check fails and /readyz answers 503.
        await set.servers[1].killHard()
        let failing = await eventually(timeout: .seconds(10)) {
            last = try? await node.client().get("/readyz")
            return last.map { $0.status == 503 && $0.json["failing"] as? [String] == ["database"] } ?? false
        }
        #expect(failing, "with no server /readyz answered \(last?.status ?? 0) \(last?.body ?? "")")
        #expect(Self.databaseCheck(try #require(last))["status"] as? String == "failing")
    }

    /// `steadfast db status` "exits 1 when no primary is reachable" — here the standby answers
    /// (so this is not the "no server at all" case OperatorCommandsLiveTests covers): the table
    /// shows it, and the exit status is exactly 1. With the primary up it is 0.
    @Test func dbStatusExits1WhenOnlyAStandbyAnswers() async throws {
        let set = try await PostgresReplicaSet.start(standbys: 1)
        defer { set.stopAll() }
        let database = try await set.createDatabase(prefix: "dbstatus")
        let url = set.url(database: database)
        // A node sets the schema up, as in real life; then it is not needed.
        let node = try await SteadfastNode.start(name: "dbstatus", database: url)
        #expect(try await node.stop() == 0)

        let before = try await Self.runSteadfast(["db", "status", "--database", url])
        #expect(before.status == 0, "\(before.output)")
        #expect(before.output.contains("primary"), "\(before.output)")

        await set.servers[0].killHard()
        let after = try await Self.runSteadfast(["db", "status", "--database", url])
        #expect(after.status == 1, "exit status \(after.status) with no primary:\n\(after.output)")
        let standbyRow = after.stdout.split(separator: "\n").first { $0.hasPrefix("127.0.0.1:\(set.servers[1].port)") }
        #expect(standbyRow?.contains("standby") == true, "\(after.output)")
        let primaryRow = after.stdout.split(separator: "\n").first { $0.hasPrefix("127.0.0.1:\(set.servers[0].port)") }
        #expect(primaryRow?.contains("unreachable") == true, "\(after.output)")
        #expect(after.stderr.contains("no primary of"), "\(after.output)")
    }

    struct CommandOutcome {
        let status: Int32
        let stdout: String
        let stderr: String
        var output: String { stdout + stderr }
    }

    /// Runs the built `steadfast` binary with only the given arguments (nothing from the
    /// environment), bounded in time.
    static func runSteadfast(_ arguments: [String]) async throws -> CommandOutcome {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-promise-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let process = try ManagedProcess(
            name: "cli", executable: TestPaths.steadfastBinary, arguments: arguments,
            environment: ["STEADFAST_DATABASE_URL": nil, "STEADFAST_CONFIG": nil, "STEADFAST_NODE_DATA_DIR": nil],
            workingDirectory: directory, logDirectory: directory
        )
        let status = try await process.waitForExit(timeout: .seconds(60))
        return CommandOutcome(status: status, stdout: process.stdout, stderr: process.stderr)
    }

    // MARK: docs/security.md

    /// API tokens "stop working if that account stops being staff": with no staff-management UI
    /// yet, the account is demoted in the database, and the very next request with the token is
    /// a 401 on every node.
    @Test func anAPITokenStopsWorkingWhenItsAccountStopsBeingStaff() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "demote")
        let url = server.url(database: database)
        let arguments = ["--admin-email", Self.staffEmail, "--admin-password", Self.staffPassword]
        let a = try await SteadfastNode.start(name: "demote-a", database: url, arguments: arguments)
        defer { a.process.send(SIGKILL) }
        let b = try await SteadfastNode.start(name: "demote-b", database: url, arguments: arguments)
        defer { b.process.send(SIGKILL) }
        let staff = a.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": Self.staffEmail, "password": Self.staffPassword]).status == 200)
        let created = try await staff.postJSON("/api/v1/admin/api-tokens", ["name": "robot"])
        #expect(created.status == 201, "\(created.body)")
        let bearer = try #require(created.json["token"] as? String)
        let headers = ["Authorization": "Bearer \(bearer)"]
        for node in [a, b] {
            let answer = try await node.client().get("/api/v1/admin/clients", headers: headers)
            #expect(answer.status == 200, "\(node.baseURL): \(answer.status) \(answer.body)")
        }

        let demoted = try await server.psql("UPDATE accounts SET role = 'client' WHERE email = '\(Self.staffEmail)' RETURNING role", database: database)
        #expect(demoted == "client")
        for node in [a, b] {
            for path in ["/api/v1/admin/clients", "/api/v1/me"] {
                let answer = try await node.client().get(path, headers: headers)
                #expect(answer.status == 401, "\(node.baseURL)\(path) with the token of a demoted account: \(answer.status) \(answer.body)")
            }
        }
    }

    /// The 500 path on a real node (PortalRouter's own middleware order): a table renamed under
    /// the node makes the invoice routes fail with a database error the node does not expect.
    /// The answer quotes the request id and nothing of the error (the server's message names
    /// the table); the node logs the error with that request id.
    @Test func anUnexpectedDatabaseErrorOnANodeCarriesNoInternals() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "internals")
        let node = try await SteadfastNode.start(name: "internals", database: server.url(database: database))
        defer { node.process.send(SIGKILL) }
        let client = try await Self.loggedIn(node, email: "internals@example.com")
        #expect(try await client.get("/api/v1/invoices").status == 200)
        try await server.psql("ALTER TABLE invoices RENAME TO invoices_renamed_s3cr3t", database: database)

        let json = try await client.get("/api/v1/invoices")
        let html = try await client.get("/clientarea/invoices")
        for (answer, what) in [(json, "JSON"), (html, "HTML")] {
            #expect(answer.status == 500, "\(what): \(answer.status) \(answer.body)")
            let id = try #require(answer.header("X-Request-ID"))
            #expect(answer.body.contains(id), "the \(what) answer does not quote the request id")
            for leak in ["s3cr3t", "relation", "PostgreSQL", "SQLSTATE", "42P01", "SELECT"] {
                #expect(!answer.body.lowercased().contains(leak.lowercased()), "the \(what) answer carries \"\(leak)\": \(answer.body)")
            }
            let logged = await eventually(timeout: .seconds(5)) {
                node.process.stderr.split(separator: "\n").contains { $0.contains("unhandled error") && $0.contains(id) }
            }
            #expect(logged, "no \"unhandled error\" log line with request id \(id)")
        }
        #expect(json.json["request_id"] as? String == json.header("X-Request-ID"))
    }

    /// "HTML responses send `Content-Security-Policy`, `X-Frame-Options: DENY`,
    /// `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`": every page a client,
    /// a member of staff and a visitor can reach by following links (crawled, so new pages are
    /// covered), the printable invoices, and error pages.
    @Test func everyHTMLPageSendsTheSecurityHeaders() async throws {
        let live = try await BillingLive.start(.sqlite, name: "headers")
        defer { live.stop() }
        let client = try await live.client("hdr")
        let (order, invoice) = try await live.order(client)
        let clientID = try #require(try await client.get("/api/v1/me").json["id"] as? String)
        var checked = 0

        func check(_ response: HTTPTestClient.Response, _ what: String) {
            checked += 1
            #expect(response.header("Content-Type")?.hasPrefix("text/html") == true, "\(what): Content-Type \(response.header("Content-Type") ?? "none")")
            let csp = response.header("Content-Security-Policy") ?? ""
            #expect(csp.contains("default-src") && csp.contains("frame-ancestors 'none'"), "\(what): Content-Security-Policy \(csp)")
            #expect(response.header("X-Frame-Options") == "DENY", "\(what): X-Frame-Options \(response.header("X-Frame-Options") ?? "none")")
            #expect(response.header("X-Content-Type-Options") == "nosniff", "\(what): X-Content-Type-Options \(response.header("X-Content-Type-Options") ?? "none")")
            #expect(response.header("Cache-Control")?.contains("no-store") == true, "\(what): Cache-Control \(response.header("Cache-Control") ?? "none")")
        }

        /// Follows every same-site link from `start` (GET only, at most 150 pages).
        func crawl(_ browser: HTTPTestClient, from start: [String]) async throws -> Set<String> {
            var queue = start
            var seen = Set(start)
            while !queue.isEmpty, seen.count <= 150 {
                let path = queue.removeFirst()
                let page = try await browser.get(path)
                guard page.status != 303 else { continue }
                check(page, "GET \(path) (\(page.status))")
                for match in page.body.matches(of: /href="(\/[^"#]*)"/) {
                    let link = String(match.1).replacingOccurrences(of: "&amp;", with: "&")
                    // Not pages: the API, signed file links, the stylesheet and script (/assets/, cached).
                    if !link.hasPrefix("/api/"), !link.hasPrefix("/files/"), !link.hasPrefix("/assets/"), seen.insert(link).inserted { queue.append(link) }
                }
            }
            return seen
        }

        let clientPages = try await crawl(client, from: [
            "/", "/clientarea", "/store", "/cart", "/clientarea/orders/\(order)", "/clientarea/invoices/\(invoice)",
            "/clientarea/invoices/\(invoice)/print", "/clientarea/credit", "/clientarea/billing-profile", "/logout",
        ])
        let staffPages = try await crawl(live.staff, from: [
            "/admin", "/admin/clients/\(clientID)", "/admin/invoices/\(invoice)", "/admin/invoices/\(invoice)/print", "/admin/jobs",
        ])
        _ = try await crawl(live.nodes[0].client(), from: ["/", "/login", "/register"])
        #expect(clientPages.contains { $0.hasSuffix("/print") } && staffPages.contains { $0.hasSuffix("/print") })
        #expect(staffPages.count > 10, "the staff crawl found only \(staffPages.sorted())")

        // Error pages: 404 (no route, another client's object), 403 (staff only, no CSRF token), 400.
        let notFound = try await client.get("/no-such-page")
        #expect(notFound.status == 404)
        check(notFound, "404 page")
        let otherInvoice = try await client.get("/clientarea/invoices/\(UUID().uuidString.lowercased())")
        #expect(otherInvoice.status == 404)
        check(otherInvoice, "404 invoice page")
        let forbidden = try await client.get("/admin")
        #expect(forbidden.status == 403)
        check(forbidden, "403 page")
        let noCSRF = try await client.postForm("/clientarea/billing-profile", ["country": "FR"])
        #expect(noCSRF.status == 403)
        check(noCSRF, "CSRF 403 page")
        let profile = try await client.get("/clientarea/billing-profile")
        let csrf = try #require(profile.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1).description
        let badRequest = try await client.postForm("/clientarea/billing-profile", ["_csrf": csrf, "country": "USA"])
        #expect(badRequest.status == 400)
        check(badRequest, "400 page")
        print("security headers checked on \(checked) HTML responses")
    }
}
