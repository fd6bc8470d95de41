import Foundation
import SteadfastDomain
import SteadfastTestSupport
import Testing

/// Two nodes on one PostgreSQL (docs/accounts.md): the two-step log-in may finish on the other
/// node, a TOTP code is accepted once across the cluster, and ending sessions (password change,
/// `DELETE /api/v1/me/sessions/{id}`) takes effect on every node at once.
@Suite(.serialized) struct AccountsLiveTests {
    static let password = "correct horse battery"

    static func nodes(_ prefix: String, arguments: [String] = []) async throws -> (SteadfastNode, SteadfastNode) {
        let server = try await PostgresServer.shared()
        let url = server.url(database: try await server.createDatabase(prefix: prefix))
        let a = try await SteadfastNode.start(name: "\(prefix)-a", database: url, arguments: arguments)
        let b = try await SteadfastNode.start(name: "\(prefix)-b", database: url, arguments: arguments)
        return (a, b)
    }

    /// Registers an account and logs `client` in with it.
    static func register(_ client: HTTPTestClient, _ email: String) async throws {
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": email, "password": Self.password, "name": "Someone"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": email, "password": Self.password]).status == 200)
    }

    @Test func theSecondFactorMayFinishOnAnotherNodeAndACodeWorksOnceInTheCluster() async throws {
        let (a, b) = try await Self.nodes("acc2fa")
        defer {
            a.process.send(SIGKILL)
            b.process.send(SIGKILL)
        }
        let owner = a.client()
        try await Self.register(owner, "ann@example.com")
        let started = try await owner.postJSON("/api/v1/me/2fa/totp", [:])
        #expect(started.status == 201)
        let secret = try #require(started.json["secret"] as? String)
        #expect((started.json["otpauth_uri"] as? String)?.hasPrefix("otpauth://totp/") == true)
        let totp = try #require(TOTP(base32: secret))
        let confirmStep = TOTP.step(at: Date())
        let confirmed = try await owner.postJSON("/api/v1/me/2fa/totp/confirm", ["code": totp.code(step: confirmStep)])
        #expect(confirmed.status == 200)
        let recovery = try #require(confirmed.json["recovery_codes"] as? [String])
        #expect(recovery.count == 10)

        // Step 1 on a: the password is right, but nobody is logged in yet.
        let phone = a.client()
        let first = try await phone.postJSON("/api/v1/auth/login", ["email": "ann@example.com", "password": Self.password])
        #expect(first.status == 200)
        #expect(first.json["second_factor_required"] as? Bool == true)
        #expect(first.json["id"] == nil)
        #expect(try await phone.get("/api/v1/me").status == 401)
        #expect(try await phone.pointed(at: b.baseURL).get("/api/v1/me").status == 401)
        // Step 2 on b, with the next step's code (the confirming code is spent).
        let code = totp.code(step: confirmStep + 1)
        let second = try await phone.pointed(at: b.baseURL).postJSON("/api/v1/auth/login/second-factor", ["code": code])
        #expect(second.status == 200, "\(second.body)")
        #expect(try await phone.get("/api/v1/me").status == 200)

        // The same code again, on the other node: refused (the step is recorded in the database).
        let thief = b.client()
        #expect(try await thief.postJSON("/api/v1/auth/login", ["email": "ann@example.com", "password": Self.password]).status == 200)
        let replay = try await thief.pointed(at: a.baseURL).postJSON("/api/v1/auth/login/second-factor", ["code": code])
        #expect(replay.status == 400)
        #expect((replay.json["error"] as? [String: Any])?["code"] as? String == "invalid_code")
        #expect(try await thief.get("/api/v1/me").status == 401)
        // A recovery code works, once.
        #expect(try await thief.postJSON("/api/v1/auth/login/second-factor", ["code": recovery[0]]).status == 200)
        let other = a.client()
        #expect(try await other.postJSON("/api/v1/auth/login", ["email": "ann@example.com", "password": Self.password]).status == 200)
        #expect(try await other.postJSON("/api/v1/auth/login/second-factor", ["code": recovery[0]]).status == 400)
        // Without step 1 there is nothing to complete.
        #expect(try await b.client().postJSON("/api/v1/auth/login/second-factor", ["code": recovery[1]]).status == 401)

        // The HTML log-in takes the same two steps, with CSRF on both forms.
        let browser = b.client()
        let loginPage = try await browser.get("/login")
        let token = try #require(NodeLiveTests.csrfToken(in: loginPage.body))
        let posted = try await browser.postForm("/login", ["_csrf": token, "email": "ann@example.com", "password": Self.password])
        #expect(posted.status == 303 && posted.header("Location") == "/login/second-factor")
        let form = try await browser.pointed(at: a.baseURL).get("/login/second-factor")
        #expect(form.status == 200)
        let formToken = try #require(NodeLiveTests.csrfToken(in: form.body))
        #expect(try await browser.postForm("/login/second-factor", ["code": recovery[2]]).status == 403)
        let done = try await browser.postForm("/login/second-factor", ["_csrf": formToken, "code": recovery[2]])
        #expect(done.status == 303 && done.header("Location") == "/clientarea")
    }

    @Test func sessionsAreListedAndEndedOnlyByTheirOwnerOnEveryNode() async throws {
        let (a, b) = try await Self.nodes("accsess")
        defer {
            a.process.send(SIGKILL)
            b.process.send(SIGKILL)
        }
        let desk = a.client()
        try await Self.register(desk, "ann@example.com")
        let laptop = b.client()
        #expect(try await laptop.postJSON("/api/v1/auth/login", ["email": "ann@example.com", "password": Self.password]).status == 200)
        let listed = try await desk.get("/api/v1/me/sessions")
        #expect(listed.status == 200)
        let sessions = try #require(listed.json["sessions"] as? [[String: Any]])
        #expect(sessions.count == 2)
        #expect(sessions.filter { $0["current"] as? Bool == true }.count == 1)
        let laptopID = try #require(sessions.first { $0["current"] as? Bool == false }?["id"] as? String)

        // Another client cannot see or end them: 404, as for an id that does not exist.
        let mallory = b.client()
        try await Self.register(mallory, "mallory@example.com")
        #expect(try await mallory.send("DELETE", "/api/v1/me/sessions/\(laptopID)").status == 404)
        #expect(try await mallory.send("DELETE", "/api/v1/me/sessions/not-a-uuid").status == 404)
        #expect(try await laptop.get("/api/v1/me").status == 200)

        // Changing the password on a ends the laptop's session on b at once; this one stays.
        let wrong = try await desk.postJSON("/api/v1/me/password", ["current_password": "wrong horse battery", "new_password": "a brand new secret"])
        #expect(wrong.status == 400)
        #expect((wrong.json["error"] as? [String: Any])?["field"] as? String == "current_password")
        #expect(try await desk.postJSON("/api/v1/me/password", ["current_password": Self.password, "new_password": "a brand new secret"]).status == 204)
        #expect(try await laptop.get("/api/v1/me").status == 401)
        #expect(try await desk.get("/api/v1/me").status == 200)

        // Ending one's own session by id, from the other node.
        let phone = a.client()
        #expect(try await phone.postJSON("/api/v1/auth/login", ["email": "ann@example.com", "password": "a brand new secret"]).status == 200)
        let now = try #require(try await desk.pointed(at: b.baseURL).get("/api/v1/me/sessions").json["sessions"] as? [[String: Any]])
        let phoneID = try #require(now.first { $0["current"] as? Bool == false }?["id"] as? String)
        #expect(try await desk.pointed(at: b.baseURL).send("DELETE", "/api/v1/me/sessions/\(phoneID)").status == 204)
        #expect(try await phone.get("/api/v1/me").status == 401)
    }

    /// A password-reset request must not tell whether the address has an account, by its answer
    /// or by its cost (docs/accounts.md, "Password reset"). Its cost is not timed here (timing
    /// belongs in bench/, and a loaded machine makes any limit flaky or toothless); what makes it
    /// the same is checked instead: the same answer, byte for byte, and the same statements,
    /// counted by PostgreSQL itself (`pg_stat_statements`) — a request that looked the address
    /// up and wrote a token, mail or event for a known one would run statements an unknown one
    /// does not. The mail-delivery job then makes the link for the known address only.
    @Test func passwordResetAnswersTheSameForEveryAddressAndTheFormNeedsCSRF() async throws {
        // A server of its own: pg_stat_statements must be preloaded, and other suites'
        // statements must not be counted.
        let server = try await PostgresServer.start(settings: ["shared_preload_libraries": "'pg_stat_statements'"])
        defer { server.stop() }
        let database = try await server.createDatabase(prefix: "accreset")
        try await server.psql("CREATE EXTENSION pg_stat_statements", database: database)
        let url = server.url(database: database)
        // Node a answers the counted requests: no jobs and no route refresh beside them, so only
        // requests run statements (besides the role monitor's probes, left out below).
        let a = try await SteadfastNode.start(
            name: "accreset-a", database: url, arguments: ["--set", "jobs.enabled=false", "--set", "storage.route_refresh_interval=1h"]
        )
        defer { a.process.send(SIGKILL) }
        #expect(try await a.client().postJSON("/api/v1/auth/register", ["email": "ann@example.com", "password": Self.password, "name": "Ann"]).status == 201)

        let rounds = 5
        // Each request from a client of its own (no cookies carried over), after one of each
        // kind that opens what a first request opens.
        let reset: @Sendable (String) async throws -> HTTPTestClient.Response = { address in
            try await a.client().postJSON("/api/v1/auth/password-reset", ["email": address])
        }
        _ = try await reset("ann@example.com")
        _ = try await reset("warm-up@example.com")
        func counted(_ address: @Sendable (Int) -> String) async throws -> (answers: Set<String>, statements: String) {
            _ = try await server.psql("SELECT pg_stat_statements_reset()", database: database)
            var answers: Set<String> = []
            for i in 0..<rounds { answers.insert(Self.comparable(try await reset(address(i)))) }
            let statements = try await server.psql("""
                SELECT calls || ' ' || regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_is_in_recovery()%'
                ORDER BY query
                """, database: database)
            return (answers, statements)
        }
        let known = try await counted { _ in "ann@example.com" }
        let unknown = try await counted { "nobody\($0)@example.com" }
        #expect(known.answers.count == 1 && known.answers == unknown.answers, "known: \(known.answers)\nunknown: \(unknown.answers)")
        #expect(known.answers.first?.hasPrefix("202\n") == true && known.answers.first?.hasSuffix("\n{}") == true, "\(known.answers)")
        #expect(known.statements.contains("password_reset_requests"), "the request queues the address:\n\(known.statements)")
        #expect(known.statements == unknown.statements, "a known address ran:\n\(known.statements)\nan unknown one:\n\(unknown.statements)")

        // Node b runs the jobs: mail-delivery makes the known address's links, with the
        // request's node and id on the event, and nothing for the others.
        let b = try await SteadfastNode.start(name: "accreset-b", database: url, arguments: ["--set", "mail.delivery_interval=1s"])
        defer { b.process.send(SIGKILL) }
        let queued = { try await server.psql("SELECT COUNT(*) FROM password_reset_requests", database: database).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try await eventually { try await queued() == "0" }, "the mail-delivery job left reset requests queued")
        let mailed = try await server.psql("SELECT to_address FROM mail_outbox WHERE template = 'password_reset' ORDER BY to_address", database: database)
        #expect(mailed.split(separator: "\n").map(String.init) == Array(repeating: "ann@example.com", count: rounds + 1), "\(mailed)")
        let events = try await server.psql("""
            SELECT node_id || ' ' || actor_kind || ' ' || (request_id IS NOT NULL) FROM audit_events
            WHERE action = 'account.password_reset_requested'
            """, database: database)
        #expect(events.split(separator: "\n").map(String.init) == Array(repeating: "accreset-a system true", count: rounds + 1), "\(events)")

        #expect(try await a.client().postJSON("/api/v1/auth/password-reset/confirm", ["token": String(repeating: "ab", count: 32), "password": "a brand new secret"]).status == 400)
        // The HTML forms refuse a post without the CSRF token.
        let browser = a.client()
        #expect(try await browser.postForm("/password-reset", ["email": "ann@example.com"]).status == 403)
        let page = try await browser.get("/password-reset")
        let token = try #require(NodeLiveTests.csrfToken(in: page.body))
        let sent = try await browser.postForm("/password-reset", ["_csrf": token, "email": "ann@example.com"])
        #expect(sent.status == 303 && sent.header("Location") == "/login", "\(sent.status)")
        // A visitor's flash, kept in the database session: shown by the other node, then once only.
        let notice = "If that address has an account, a link to choose a new password is on its way."
        let shown = try await browser.pointed(at: b.baseURL).get("/login")
        #expect(shown.status == 200 && shown.body.contains(notice), "\(shown.body.prefix(2000))")
        #expect(try await browser.get("/login").body.contains(notice) == false)
        #expect(try await browser.get("/password-reset/\(String(repeating: "ab", count: 32))").status == 404)
        #expect(try await browser.postForm("/password-reset/\(String(repeating: "ab", count: 32))", ["password": "a brand new secret"]).status == 403)
    }

    /// An answer as one text to compare: status, headers (names lower-cased, in order; the date,
    /// the request id and cookie values, which differ for every request, blanked) and body.
    static func comparable(_ response: HTTPTestClient.Response) -> String {
        let headers = response.headers.map { name, value -> String in
            let name = name.lowercased()
            switch name {
            case "date", "x-request-id": return "\(name): *"
            case "set-cookie": return "\(name): " + value.replacing(/=[^;]*/, with: "=*", maxReplacements: 1)
            default: return "\(name): \(value)"
            }
        }
        return ([String(response.status)] + headers + [response.body]).joined(separator: "\n")
    }

    /// `accounts.require_2fa_for_staff` and `accounts.require_verified_email`, the profile API,
    /// and the pages: profile, and enrolment with the QR code as inline SVG.
    @Test func staffMustEnrolClientsMustVerifyAndThePagesRender() async throws {
        let server = try await PostgresServer.shared()
        let url = server.url(database: try await server.createDatabase(prefix: "accgate"))
        let arguments = [
            "--admin-email", "staff@example.com", "--admin-password", Self.password,
            "--set", "accounts.require_2fa_for_staff=true", "--set", "accounts.require_verified_email=true",
        ]
        let node = try await SteadfastNode.start(name: "accgate", database: url, arguments: arguments)
        defer { node.process.send(SIGKILL) }

        // Staff without 2FA: the staff API is 403, staff pages send them to enrol; their own account works.
        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": Self.password]).status == 200)
        let refused = try await staff.get("/api/v1/admin/clients")
        #expect(refused.status == 403)
        #expect(((refused.json["error"] as? [String: Any])?["message"] as? String)?.contains("two-factor") == true)
        let page = try await staff.get("/admin")
        #expect(page.status == 303 && page.header("Location") == "/account/2fa")
        #expect(try await staff.get("/account/2fa").status == 200)
        let secret = try #require(try await staff.postJSON("/api/v1/me/2fa/totp", [:]).json["secret"] as? String)
        let enrolPage = try await staff.get("/account/2fa")
        #expect(enrolPage.body.contains("<svg") && enrolPage.body.contains(secret))
        let totp = try #require(TOTP(base32: secret))
        #expect(try await staff.postJSON("/api/v1/me/2fa/totp/confirm", ["code": totp.code(at: Date())]).status == 200)
        #expect(try await staff.get("/api/v1/admin/clients").status == 200)
        #expect(try await staff.get("/admin").status == 200)

        // A client with an unconfirmed address cannot order until they follow the mailed link.
        let client = node.client()
        try await Self.register(client, "carol@example.com")
        let checkout = try await client.postJSON("/api/v1/cart/checkout", [:])
        #expect(checkout.status == 403)
        #expect((checkout.json["error"] as? [String: Any])?["code"] as? String == "email_not_verified")
        let mail: String = try await withPostgres(url: url) { db in
            try await db.first("SELECT text_body FROM mail_outbox WHERE template = 'email_verification' AND to_address = 'carol@example.com'")?.string("text_body") ?? ""
        }
        let range = try #require(mail.range(of: "/verify-email/"))
        let token = String(mail[range.upperBound...].prefix(while: \.isHexDigit))
        #expect(try await client.postJSON("/api/v1/auth/verify-email", ["token": token]).status == 204)
        #expect(try await client.postJSON("/api/v1/cart/checkout", [:]).status != 403)

        // The profile API and page.
        let updated = try await client.send("PUT", "/api/v1/me", headers: ["Content-Type": "application/json"], body: Array(#"{"name":"Carol C","company":"ACME","phone":"+1 555 0100","address":"1 Main St"}"#.utf8))
        #expect(updated.status == 200)
        #expect(updated.json["company"] as? String == "ACME" && updated.json["email_verified"] as? Bool == true)
        let bad = try await client.send("PUT", "/api/v1/me", headers: ["Content-Type": "application/json"], body: Array(#"{"name":"Carol","phone":"call me"}"#.utf8))
        #expect(bad.status == 400)
        #expect((bad.json["error"] as? [String: Any])?["field"] as? String == "phone")
        let profile = try await client.get("/account")
        #expect(profile.status == 200 && profile.body.contains("ACME") && profile.body.contains("this session"))
    }
}
