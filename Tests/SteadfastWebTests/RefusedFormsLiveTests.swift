import Foundation
import Logging
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The forms with the most to lose (a ticket, a reply, a registration, company details,
/// invitations) on a live node: refused input comes back as the same form with what was typed (HTML-escaped, never a
/// password), the message beside its field (`aria-describedby`) and the summary, and nothing is
/// written. ``ShortListFormsLiveTests`` does the same for the staff short lists.
@Suite struct RefusedFormsLiveTests {
    typealias Forms = ShortListFormsLiveTests

    /// The message shown beside field `id` (as it appears in the page, escaped).
    static func message(_ id: String, in html: String) -> String {
        guard let start = html.range(of: "<p class=\"field-error\" id=\"\(id)-error\">") else { return "" }
        return String(html[start.upperBound...].prefix { $0 != "<" })
    }

    static func count(_ sqlite: SQLiteEngine, _ tables: [String]) async throws -> [Int64] {
        var counts: [Int64] = []
        for table in tables {
            counts.append(try #require(try await sqlite.first(.trusted("SELECT COUNT(*) AS n FROM \(table)"))?.int("n")))
        }
        return counts
    }

    /// Runs `body` against a new SQLite node (staff logged in, a product) and its database
    /// file, which is closed afterwards.
    static func withLive(_ name: String, settings: [String] = [], _ body: (BillingLive, SQLiteEngine) async throws -> Void) async throws {
        let live = try await BillingLive.start(.sqlite, name: name, settings: settings)
        defer { live.stop() }
        let path = live.nodes[0].workingDirectory.appendingPathComponent("steadfast-data/steadfast.sqlite").path
        let sqlite = try await SQLiteEngine.open(path: path, logger: Logger(label: name))
        do {
            try await body(live, sqlite)
        } catch {
            try? await sqlite.close()
            throw error
        }
        try await sqlite.close()
    }

    /// A client's new ticket and both sides' replies: a bad subject, a refused file or an
    /// over-long message keeps every typed field, and stores no ticket, message or file.
    @Test func refusedTicketsAndRepliesKeepTheirText() async throws {
        try await Self.withLive("refused_ticket_forms") { live, sqlite in
            let staff = live.staff
            #expect(try await staff.postJSON("/api/v1/admin/support/departments", ["name": "Help", "email": "help@example.com", "public": true]).status == 201)
            let second = try await staff.postJSON("/api/v1/admin/support/departments", ["name": "Sales", "email": "sales@example.com", "public": true])
            let salesID = try #require(second.json["id"] as? String, "\(second.body)")
            let client = try await live.client("ticket-writer")
            let csrf = try #require(NodeLiveTests.csrfToken(in: try await client.get("/clientarea/tickets/new").body))
            let tables = ["tickets", "ticket_messages", "stored_files", "audit_events"]
            let before = try await Self.count(sqlite, tables)

            // A subject too long: the long message comes back in full, escaped, with the choices made.
            let subject = "<b>Typed</b> & " + String(repeating: "s", count: 200)
            let message = "KEPT <message> & \"quoted\"\nsecond line"
            let (type, body) = SupportLiveTests.multipart(
                [("_csrf", csrf), ("_form", "ticket"), ("department_id", salesID), ("subject", subject), ("priority", "high"), ("message", message)], files: []
            )
            let refused = try await client.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": type], body: body)
            Forms.expectRefused(refused, status: 400, form: "ticket", field: "subject", message: "subject must be at most 200 characters long")
            #expect(refused.body.contains("<h1>Open a support ticket</h1>"))
            #expect(Forms.tag("ticket-subject", in: refused.body)?.contains("value=\"&lt;b&gt;Typed&lt;/b&gt; &amp; sss") == true)
            #expect(refused.body.contains(">KEPT &lt;message&gt; &amp; &quot;quoted&quot;\nsecond line</textarea>"), "the message is not kept")
            #expect(refused.body.contains("<option value=\"\(salesID)\" selected>Sales</option>"))
            #expect(refused.body.contains("<option value=\"high\" selected>high</option>"))

            // A program as an attachment (415): the error is on the file picker, the text kept.
            let (exeType, exeBody) = SupportLiveTests.multipart(
                [("_csrf", csrf), ("_form", "ticket"), ("department_id", salesID), ("subject", "Keep me"), ("message", "my long explanation")],
                files: [("tool.exe", [0x4D, 0x5A])]
            )
            let program = try await client.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": exeType], body: exeBody)
            let why = Self.message("ticket-files", in: program.body)
            #expect(why.hasPrefix("files of type"), "\(why)")
            Forms.expectRefused(program, status: 415, form: "ticket", field: "files", message: why)
            #expect(Forms.tag("ticket-subject", in: program.body)?.contains("value=\"Keep me\"") == true)
            #expect(program.body.contains(">my long explanation</textarea>"))
            #expect(try await Self.count(sqlite, tables) == before, "a refused ticket wrote something")

            // Replies: the client's with a program, the staff's too long; both keep their text.
            let opened = try await client.postJSON("/api/v1/tickets", ["department_id": salesID, "subject": "Real", "message": "first"])
            let ticketID = try #require(opened.json["id"] as? String, "\(opened.body)")
            let afterOpen = try await Self.count(sqlite, tables)
            let (replyType, replyBody) = SupportLiveTests.multipart(
                [("_csrf", csrf), ("_form", "reply"), ("ticket_id", ticketID), ("message", "REPLY <kept> & sound")], files: [("tool.exe", [0x4D, 0x5A])]
            )
            let reply = try await client.send("POST", "/clientarea/tickets/reply", headers: ["Content-Type": replyType], body: replyBody)
            Forms.expectRefused(reply, status: 415, form: "reply", field: "files", message: Self.message("reply-files", in: reply.body))
            #expect(reply.body.contains(">REPLY &lt;kept&gt; &amp; sound</textarea>") && reply.body.contains("<h1>TKT-"))

            let staffCSRF = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin/tickets/\(ticketID)").body))
            let long = "NOTE " + String(repeating: "n", count: 65_536)
            let (noteType, noteBody) = SupportLiveTests.multipart(
                [("_csrf", staffCSRF), ("_form", "reply"), ("ticket_id", ticketID), ("message", long), ("internal", "1")], files: []
            )
            let note = try await staff.send("POST", "/admin/tickets/reply", headers: ["Content-Type": noteType], body: noteBody)
            Forms.expectRefused(note, status: 400, form: "reply", field: "message", message: "message must be at most 65536 characters long")
            #expect(note.body.contains(">\(long)</textarea>"))
            #expect(Forms.tag("reply-internal", in: note.body)?.contains(" checked") == true, "the internal-note box stays ticked")
            #expect(try await Self.count(sqlite, tables) == afterOpen, "a refused reply wrote something")
        }
    }

    /// The registration form: a bad or taken address keeps the name and address typed, never
    /// the password, and creates no account.
    @Test func refusedRegistrationKeepsNameAndAddressNotPassword() async throws {
        try await Self.withLive("refused_registration") { live, sqlite in
            let visitor = live.nodes[0].client()
            let page = try await visitor.get("/register")
            #expect(page.body.contains("id=\"register-password-hint\""))
            let csrf = try #require(NodeLiveTests.csrfToken(in: page.body))
            let before = try await Self.count(sqlite, ["accounts", "audit_events"])
            let password = "secret horse battery staple"

            let bad = try await visitor.postForm("/register", ["_csrf": csrf, "_form": "register", "name": "Ann <Typed> & Co", "email": "not-an-address", "password": password])
            let why = Self.message("register-email", in: bad.body)
            #expect(!why.isEmpty)
            Forms.expectRefused(bad, status: 400, form: "register", field: "email", message: why)
            #expect(bad.body.contains("<h1>Create your account</h1>"))
            #expect(Forms.tag("register-name", in: bad.body)?.contains("value=\"Ann &lt;Typed&gt; &amp; Co\"") == true)
            #expect(Forms.tag("register-email", in: bad.body)?.contains("value=\"not-an-address\"") == true)
            #expect(Forms.tag("register-password", in: bad.body)?.contains("value=\"\"") == true)
            #expect(!bad.body.contains(password), "the password was sent back")

            let taken = try await visitor.postForm("/register", ["_csrf": csrf, "_form": "register", "name": "Second", "email": BillingLive.staffEmail, "password": password])
            Forms.expectRefused(taken, status: 409, form: "register", field: "email", message: "an account with this e-mail address already exists")
            #expect(Forms.tag("register-name", in: taken.body)?.contains("value=\"Second\"") == true)

            let weak = try await visitor.postForm("/register", ["_csrf": csrf, "_form": "register", "name": "Weak", "email": "weak@example.com", "password": "short"])
            Forms.expectRefused(weak, status: 400, form: "register", field: "password", message: Self.message("register-password", in: weak.body))
            #expect(Forms.tag("register-password", in: weak.body)?.contains("aria-describedby=\"register-password-hint register-password-error\"") == true)
            #expect(Forms.tag("register-email", in: weak.body)?.contains("value=\"weak@example.com\"") == true)
            #expect(try await Self.count(sqlite, ["accounts", "audit_events"]) == before, "a refused registration wrote something")
        }
    }

    /// The seller's and a client's company details: a refused post keeps every field and
    /// changes no setting and writes no audit event.
    @Test func refusedCompanyDetailsKeepTheirInput() async throws {
        try await Self.withLive("refused_company_forms") { live, sqlite in
            let staff = live.staff
            let staffCSRF = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin/company").body))
            let owner = try await live.client("owner")
            let clientCSRF = try #require(NodeLiveTests.csrfToken(in: try await owner.get("/account/company").body))
            let tables = ["audit_events"]
            let before = try await Self.count(sqlite, tables)
            let sellerBefore = try await staff.get("/api/v1/admin/company").body

            // The seller identity: a bad tax id; the name and address as typed.
            let seller = try await staff.postForm("/admin/company", [
                "_csrf": staffCSRF, "_form": "company", "legal_name": "Typed & Co <Ltd>", "address": "1 Typed Street\nTown", "tax_id": "DE<123>", "bank_details": "IBAN KEPT",
            ])
            Forms.expectRefused(seller, status: 400, form: "company", field: "tax_id", message: "the tax id must be at most 32 letters, digits, spaces, dots or dashes")
            #expect(seller.body.contains("<h1>Company details</h1>"))
            #expect(Forms.tag("company-legal_name", in: seller.body)?.contains("value=\"Typed &amp; Co &lt;Ltd&gt;\"") == true)
            #expect(Forms.tag("company-tax_id", in: seller.body)?.contains("value=\"DE&lt;123&gt;\"") == true)
            #expect(seller.body.contains(">1 Typed Street\nTown</textarea>") && seller.body.contains(">IBAN KEPT</textarea>"))
            #expect(try await staff.get("/api/v1/admin/company").body == sellerBefore)

            // A client's company details: a bad phone number; the company as typed.
            let company = try await owner.postForm("/account/company", ["_csrf": clientCSRF, "_form": "company", "company": "Owner <GmbH>", "phone": "call me", "address": "Kept road"])
            Forms.expectRefused(company, status: 400, form: "company", field: "phone", message: "phone may hold only digits, spaces and + - ( ) .")
            #expect(Forms.tag("company-company", in: company.body)?.contains("value=\"Owner &lt;GmbH&gt;\"") == true)
            #expect(Forms.tag("company-phone", in: company.body)?.contains("value=\"call me\"") == true)
            #expect(company.body.contains(">Kept road</textarea>"))

            #expect(try await Self.count(sqlite, tables) == before, "a refused form wrote something")
        }
    }

    /// Both invitation forms (a client's users, staff): a refused invitation keeps the name,
    /// address and ticked boxes, and writes no account, mail or audit event.
    @Test func refusedInvitationsKeepTheirInput() async throws {
        try await Self.withLive("refused_invitations") { live, sqlite in
            let staff = live.staff
            let staffCSRF = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin/staff").body))
            let owner = try await live.client("owner")
            let clientCSRF = try #require(NodeLiveTests.csrfToken(in: try await owner.get("/account/users").body))
            let tables = ["accounts", "mail_outbox", "audit_events"]
            let before = try await Self.count(sqlite, tables)

            // A client user invited with a bad address: the name and the ticked box kept.
            let invite = try await owner.postForm("/account/users/invite", ["_csrf": clientCSRF, "_form": "invite", "name": "Typed <Friend>", "email": "not-an-address", "perm_billing": "1"])
            Forms.expectRefused(invite, status: 400, form: "invite", field: "email", message: Self.message("invite-email", in: invite.body))
            #expect(invite.body.contains("<h1>Users</h1>"))
            #expect(Forms.tag("invite-name", in: invite.body)?.contains("value=\"Typed &lt;Friend&gt;\"") == true)
            #expect(Forms.tag("invite-perm_billing", in: invite.body)?.contains(" checked") == true)
            #expect(Forms.tag("invite-perm_support", in: invite.body)?.contains(" checked") == false)

            // Staff invited with an address in use (409) or an unknown role (400, on the group).
            let roleID = try #require(((try await staff.get("/api/v1/admin/roles").json["items"] as? [[String: Any]])?.first?["id"] as? String))
            let taken = try await staff.postForm("/admin/staff/invite", ["_csrf": staffCSRF, "_form": "invite", "name": "New & staff", "email": BillingLive.staffEmail, "role_\(roleID)": "1"])
            Forms.expectRefused(taken, status: 409, form: "invite", field: "email", message: "an account with this e-mail address already exists")
            #expect(taken.body.contains("<h1>Staff</h1>"))
            #expect(Forms.tag("invite-name", in: taken.body)?.contains("value=\"New &amp; staff\"") == true)
            #expect(Forms.tag("invite-role_\(roleID)", in: taken.body)?.contains(" checked") == true)
            let unknown = try await staff.postForm("/admin/staff/invite", ["_csrf": staffCSRF, "_form": "invite", "name": "Typed", "email": "typed@example.com", "role_nonsense": "1"])
            #expect(unknown.status == 400 && unknown.body.contains("<a href=\"#invite-roles\">unknown role"), "\(unknown.status)")
            #expect(Forms.tag("invite-roles", in: unknown.body) == "<fieldset id=\"invite-roles\" aria-describedby=\"invite-roles-error\"")
            #expect(Forms.tag("invite-email", in: unknown.body)?.contains("value=\"typed@example.com\"") == true)

            #expect(try await Self.count(sqlite, tables) == before, "a refused form wrote something")

            // Accepted: the invitation says so.
            let sent = try await staff.postForm("/admin/staff/invite", ["_csrf": staffCSRF, "_form": "invite", "name": "Accepted", "email": "accepted@example.com", "role_\(roleID)": "1"])
            #expect(sent.status == 303)
            #expect(try await staff.get("/admin/staff").body.contains("Invitation sent to accepted@example.com."))
        }
    }

    /// `/account`: a refused profile keeps what was typed (an address in use is a 400 here, as
    /// it always was), a refused password change names its field and sends no password back.
    @Test func refusedProfileAndPasswordChangeNameTheirField() async throws {
        try await Self.withLive("refused_profile") { live, sqlite in
            let client = try await live.client("profile")
            let csrf = try #require(NodeLiveTests.csrfToken(in: try await client.get("/account").body))
            let before = try await Self.count(sqlite, ["audit_events", "mail_outbox"])
            let me = try await client.get("/api/v1/me").body

            let profile = try await client.postForm("/account/profile", [
                "_csrf": csrf, "_form": "profile", "name": "Typed <Name> & Co", "email": "typed-new@example.com", "company": "Kept GmbH", "phone": "call me", "address": "Kept road",
            ])
            Forms.expectRefused(profile, status: 400, form: "profile", field: "phone", message: "phone may hold only digits, spaces and + - ( ) .")
            #expect(profile.body.contains("<h1>Your account</h1>"))
            #expect(Forms.tag("profile-name", in: profile.body)?.contains("value=\"Typed &lt;Name&gt; &amp; Co\"") == true)
            #expect(Forms.tag("profile-email", in: profile.body)?.contains("value=\"typed-new@example.com\"") == true)
            #expect(Forms.tag("profile-company", in: profile.body)?.contains("value=\"Kept GmbH\"") == true)
            #expect(profile.body.contains(">Kept road</textarea>"))
            let taken = try await client.postForm("/account/profile", ["_csrf": csrf, "_form": "profile", "name": "Still typed", "email": BillingLive.staffEmail])
            Forms.expectRefused(taken, status: 400, form: "profile", field: "email", message: "an account with this e-mail address already exists")
            #expect(Forms.tag("profile-name", in: taken.body)?.contains("value=\"Still typed\"") == true)

            let wrong = "not my password at all"
            let password = try await client.postForm("/account/password", ["_csrf": csrf, "_form": "password", "current_password": wrong, "new_password": "a new long password"])
            Forms.expectRefused(password, status: 400, form: "password", field: "current_password", message: "the current password is incorrect")
            #expect(!password.body.contains(wrong) && !password.body.contains("a new long password"), "a password was sent back")
            let weak = try await client.postForm("/account/password", ["_csrf": csrf, "_form": "password", "current_password": BillingLive.password, "new_password": "short"])
            Forms.expectRefused(weak, status: 400, form: "password", field: "new_password", message: Self.message("password-new_password", in: weak.body))
            #expect(!weak.body.contains(BillingLive.password))

            #expect(try await client.get("/api/v1/me").body == me)
            #expect(try await Self.count(sqlite, ["audit_events", "mail_outbox"]) == before, "a refused form wrote something")
        }
    }

    /// A mail template that does not compile comes back as typed with the message beside the
    /// part at fault, and overrides nothing.
    @Test func refusedMailTemplateKeepsItsText() async throws {
        try await Self.withLive("refused_mail_template") { live, sqlite in
            let staff = live.staff
            let csrf = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin/mail/templates/invoice_issued").body))
            let before = try await Self.count(sqlite, ["audit_events"])
            let refused = try await staff.postForm("/admin/mail/templates", [
                "_csrf": csrf, "_form": "template", "key": "invoice_issued", "subject": "Kept <subject> & more", "text_body": "KEPT {{#open}}", "html_body": "<p>KEPT html</p>",
            ])
            Forms.expectRefused(refused, status: 400, form: "template", field: "text_body", message: Self.message("template-text_body", in: refused.body))
            #expect(refused.body.contains("<h1>Mail template invoice_issued</h1>"))
            #expect(Forms.tag("template-subject", in: refused.body)?.contains("value=\"Kept &lt;subject&gt; &amp; more\"") == true)
            #expect(refused.body.contains(">KEPT {{#open}}</textarea>") && refused.body.contains(">&lt;p&gt;KEPT html&lt;/p&gt;</textarea>"))
            #expect(try await staff.get("/api/v1/admin/mail/templates/invoice_issued").json["overridden"] as? Bool == false)
            #expect(try await Self.count(sqlite, ["audit_events"]) == before, "a refused template wrote something")
        }
    }

    /// The downloads library's upload (multipart): a bad product id (400) or a file too large
    /// (413) keeps the title, description and choices, the message beside its field or the
    /// file picker, and stores nothing.
    @Test func refusedUploadKeepsItsDetails() async throws {
        try await Self.withLive("refused_upload", settings: ["support.download_max_size=64KiB"]) { live, sqlite in
            let staff = live.staff
            let category = try #require(try await staff.postJSON("/api/v1/admin/downloads/categories", ["name": "Tools"]).json["id"] as? String)
            let csrf = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin/content/downloads").body))
            let tables = ["downloads", "stored_files", "audit_events"]
            let before = try await Self.count(sqlite, tables)
            let fields = [("_csrf", csrf), ("_form", "download"), ("category_id", category), ("title", "Kept <title>"), ("description", "Kept & described")]

            let (badType, badBody) = SupportLiveTests.multipart(fields + [("visibility", "product"), ("product_id", "not-an-id")], files: [("tool.sh", Array("echo hi".utf8))])
            let bad = try await staff.send("POST", "/admin/downloads/upload", headers: ["Content-Type": badType], body: badBody)
            Forms.expectRefused(bad, status: 400, form: "download", field: "product_id", message: "product_id must be an id")
            #expect(bad.body.contains("<h1>Downloads library</h1>"))
            #expect(Forms.tag("download-title", in: bad.body)?.contains("value=\"Kept &lt;title&gt;\"") == true)
            #expect(Forms.tag("download-description", in: bad.body)?.contains("value=\"Kept &amp; described\"") == true)
            #expect(Forms.tag("download-product_id", in: bad.body)?.contains("value=\"not-an-id\"") == true)
            #expect(bad.body.contains("<option value=\"product\" selected>"))

            let (bigType, bigBody) = SupportLiveTests.multipart(fields + [("visibility", "logged_in")], files: [("big.bin", Array(repeating: UInt8(ascii: "a"), count: 70_000))])
            let big = try await staff.send("POST", "/admin/downloads/upload", headers: ["Content-Type": bigType], body: bigBody)
            Forms.expectRefused(big, status: 413, form: "download", field: "file", message: Self.message("download-file", in: big.body))
            #expect(Forms.tag("download-title", in: big.body)?.contains("value=\"Kept &lt;title&gt;\"") == true)
            #expect(big.body.contains("<option value=\"logged_in\" selected>"))
            #expect(try await Self.count(sqlite, tables) == before, "a refused upload wrote something")
        }
    }

    /// Accepting a client user's invitation with a weak password keeps the name typed (never the
    /// password) with the message beside the password, and accepts nothing.
    @Test func refusedInvitationAcceptanceKeepsTheName() async throws {
        try await Self.withLive("refused_acceptance") { live, sqlite in
            let owner = try await live.client("inviting-owner")
            #expect(try await owner.postJSON("/api/v1/me/users", ["email": "invitee@example.com", "name": "Invited name", "permissions": ["billing"]]).status == 201)
            let mail = try await sqlite.first("SELECT text_body FROM mail_outbox WHERE template = 'client_user_invite'")?.string("text_body")
            let token = try #require(mail?.firstMatch(of: /\/invitations\/([0-9a-f]{64})/)?.1, "no invitation mailed")
            let visitor = live.nodes[0].client()
            let page = try await visitor.get("/invitations/\(token)")
            #expect(Forms.tag("invitation-name", in: page.body)?.contains("value=\"Invited name\"") == true)
            let csrf = try #require(NodeLiveTests.csrfToken(in: page.body))
            let before = try await Self.count(sqlite, ["audit_events"])

            let weak = try await visitor.postForm("/invitations/\(token)", ["_csrf": csrf, "_form": "invitation", "name": "Typed <Invitee>", "password": "short1"])
            Forms.expectRefused(weak, status: 400, form: "invitation", field: "password", message: Self.message("invitation-password", in: weak.body))
            #expect(weak.body.contains("<h1>Accept the invitation</h1>"))
            #expect(Forms.tag("invitation-name", in: weak.body)?.contains("value=\"Typed &lt;Invitee&gt;\"") == true)
            #expect(!weak.body.contains("short1"), "the password was sent back")
            #expect(try await Self.count(sqlite, ["audit_events"]) == before, "a refused acceptance wrote something")
            #expect(try await visitor.postJSON("/api/v1/auth/login", ["email": "invitee@example.com", "password": "short1"]).status == 401)
            #expect(try await visitor.get("/invitations/\(token)").status == 200, "the link still works")
        }
    }
}
