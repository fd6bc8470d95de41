import Foundation
import Logging
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The forms of the short staff lists (docs/support.md, "Short lists") on a live node: a refused
/// canned reply, role or department comes back as the same form with what was typed, the
/// message beside the field (`aria-describedby`) and the summary at the top, and writes nothing;
/// the departments have their own page for `settings.manage`, which need not read the queue.
@Suite struct ShortListFormsLiveTests {
    /// The opening tag of the element with id `id` (`<input …>`, `<textarea …>`), if any.
    static func tag(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: " id=\"\(id)\"") else { return nil }
        let open = html[..<start.lowerBound].lastIndex(of: "<")!
        return String(html[open...].prefix { $0 != ">" })
    }

    /// Checks `response` is the form `form` refused at `field`: the status, the message beside
    /// the field and tied to it, the summary's link to it, and the field marked invalid.
    static func expectRefused(_ response: HTTPTestClient.Response, status: Int, form: String, field: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let id = "\(form)-\(field)"
        let html = response.body
        #expect(response.status == status, "\(response.status) \(html.prefix(300))", sourceLocation: sourceLocation)
        #expect(html.contains("<p class=\"field-error\" id=\"\(id)-error\">\(message)</p>"), "no message beside \(id)", sourceLocation: sourceLocation)
        let control = tag(id, in: html) ?? ""
        #expect(control.contains("aria-invalid=\"true\""), "\(id) is not marked invalid: \(control)", sourceLocation: sourceLocation)
        let describedBy = control.firstMatch(of: /aria-describedby="([^"]*)"/).map { String($0.1) } ?? ""
        #expect(describedBy.split(separator: " ").map(String.init).contains("\(id)-error"), "\(id)'s aria-describedby is \"\(describedBy)\"", sourceLocation: sourceLocation)
        #expect(html.contains("class=\"error-summary\"") && html.contains("<a href=\"#\(id)\">\(message)</a>"), "no summary linking to \(id)", sourceLocation: sourceLocation)
    }

    /// Rows of the three lists and audit events, to show a refusal wrote nothing.
    static let tables = ["canned_replies", "staff_roles", "support_departments", "audit_events"]

    @Test func refusedFormsComeBackFilledInAndWriteNothing() async throws {
        try await RefusedFormsLiveTests.withLive("short_list_forms") { live, sqlite in
            let staff = live.staff
            let csrf = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin").body))
            let taken = try await staff.postJSON("/api/v1/admin/support/departments", ["name": "Sales", "email": "sales@example.com", "public": true])
            #expect(taken.status == 201, "\(taken.body)")
            let before = try await RefusedFormsLiveTests.count(sqlite, Self.tables)

            // A canned reply with a title too long: the queue page, both fields as typed.
            let longTitle = String(repeating: "Typed title ", count: 17)
            let canned = try await staff.postForm("/admin/support/canned-replies", ["_csrf": csrf, "_form": "canned-reply", "title": longTitle, "body": "KEPT-CANNED-BODY"])
            Self.expectRefused(canned, status: 400, form: "canned-reply", field: "title", message: "title must be at most 200 characters long")
            #expect(canned.body.contains("<h1>Support queue</h1>"))
            #expect(Self.tag("canned-reply-title", in: canned.body)?.contains("value=\"\(longTitle)\"") == true)
            #expect(canned.body.contains(">KEPT-CANNED-BODY</textarea>"))

            // A role with a name too long: the staff page, the name and the ticked boxes as they were.
            let longName = String(repeating: "r", count: 101)
            let role = try await staff.postForm("/admin/roles", ["_csrf": csrf, "_form": "role", "name": longName, "perm_clients.read": "1", "perm_support.reply": "1"])
            Self.expectRefused(role, status: 400, form: "role", field: "name", message: "a role name of 1-100 characters without control characters is required")
            #expect(role.body.contains("<h1>Staff</h1>"))
            #expect(Self.tag("role-name", in: role.body)?.contains("value=\"\(longName)\"") == true)
            #expect(Self.tag("role-perm_clients.read", in: role.body)?.contains(" checked") == true)
            #expect(Self.tag("role-perm_support.reply", in: role.body)?.contains(" checked") == true)
            #expect(Self.tag("role-perm_jobs.run", in: role.body)?.contains(" checked") == false)
            // An error about the permissions as a whole sits in their group.
            let unknown = try await staff.postForm("/admin/roles", ["_csrf": csrf, "_form": "role", "name": "Typed role", "perm_billing.everything": "1"])
            #expect(unknown.status == 400 && unknown.body.contains("<a href=\"#role-permissions\">unknown permission"), "\(unknown.status)")
            #expect(Self.tag("role-permissions", in: unknown.body) == "<fieldset id=\"role-permissions\" aria-describedby=\"role-permissions-error\"")
            #expect(unknown.body.contains("<p class=\"field-error\" id=\"role-permissions-error\">unknown permission"))
            #expect(Self.tag("role-name", in: unknown.body)?.contains("value=\"Typed role\"") == true)

            // A department with a bad address (400) or one already used (409): its own page, as typed.
            let department = try await staff.postForm("/admin/support/departments", ["_csrf": csrf, "_form": "department", "name": "Typed desk", "email": "not-an-address"])
            Self.expectRefused(department, status: 400, form: "department", field: "email", message: "email is not a valid e-mail address")
            #expect(department.body.contains("<h1>Support departments</h1>"))
            #expect(Self.tag("department-name", in: department.body)?.contains("value=\"Typed desk\"") == true)
            #expect(Self.tag("department-email", in: department.body)?.contains("value=\"not-an-address\"") == true)
            #expect(Self.tag("department-public", in: department.body)?.contains(" checked") == false, "the unticked box stays unticked")
            let duplicate = try await staff.postForm("/admin/support/departments", ["_csrf": csrf, "_form": "department", "name": "Second sales", "email": "sales@example.com", "public": "1"])
            Self.expectRefused(duplicate, status: 409, form: "department", field: "email", message: "another department already uses sales@example.com")
            #expect(Self.tag("department-name", in: duplicate.body)?.contains("value=\"Second sales\"") == true)
            #expect(Self.tag("department-public", in: duplicate.body)?.contains(" checked") == true)

            #expect(try await RefusedFormsLiveTests.count(sqlite, Self.tables) == before, "a refused form wrote a row or an audit event")

            // Accepted: back to the department page, which says so and lists it.
            let added = try await staff.postForm("/admin/support/departments", ["_csrf": csrf, "_form": "department", "name": "Billing desk", "email": "billing@example.com", "public": "1"])
            #expect(added.status == 303 && added.header("Location") == "/admin/support/departments")
            let page = try await staff.get("/admin/support/departments")
            #expect(page.body.contains("Department “Billing desk” added.") && page.body.contains("<td>billing@example.com</td>"))
            #expect(page.body.contains("<a href=\"/admin/support/departments\" aria-current=\"page\">Departments</a>"))
        }
    }

    /// A member of staff with only `settings.manage` opens and uses the department page (a
    /// refused form comes back to it, not to the queue they may not read); one without it gets 403.
    @Test func theDepartmentPageIsForSettingsManage() async throws {
        let live = try await BillingLive.start(.sqlite, name: "department_page")
        defer { live.stop() }
        let path = live.nodes[0].workingDirectory.appendingPathComponent("steadfast-data/steadfast.sqlite").path

        func member(_ permission: String) async throws -> HTTPTestClient {
            let role = try await live.staff.postJSON("/api/v1/admin/roles", ["name": "Only \(permission)", "permissions": [permission]])
            let roleID = try #require(role.json["id"] as? String, "\(role.body)")
            let email = "\(permission.replacingOccurrences(of: ".", with: "-"))@example.com"
            #expect(try await live.staff.postJSON("/api/v1/admin/staff", ["email": email, "name": permission, "roles": [roleID]]).status == 201)
            let sqlite = try await SQLiteEngine.open(path: path, logger: Logger(label: "department-page"))
            let mail = try? await sqlite.first("SELECT text_body FROM mail_outbox WHERE template = 'staff_invite' AND to_address = \(email)")?.string("text_body")
            try await sqlite.close()
            let token = try #require(mail?.firstMatch(of: /\/password-reset\/([0-9a-f]{64})/)?.1, "no invitation mailed to \(email)")
            let client = live.nodes[0].client()
            #expect(try await client.postJSON("/api/v1/auth/password-reset/confirm", ["token": String(token), "password": BillingLive.password]).status == 204)
            #expect(try await client.postJSON("/api/v1/auth/login", ["email": email, "password": BillingLive.password]).status == 200)
            return client
        }
        let settings = try await member("settings.manage")
        let support = try await member("support.reply")

        let page = try await settings.get("/admin/support/departments")
        #expect(page.status == 200 && page.body.contains("No departments yet.") && page.body.contains("id=\"department-name\""), "\(page.status) \(page.body.prefix(300))")
        #expect(try await settings.get("/admin/tickets").status == 403)
        let csrf = try #require(NodeLiveTests.csrfToken(in: page.body))
        let refused = try await settings.postForm("/admin/support/departments", ["_csrf": csrf, "_form": "department", "name": "Typed desk", "email": "", "public": "1"])
        Self.expectRefused(refused, status: 400, form: "department", field: "email", message: "email is not a valid e-mail address")
        #expect(Self.tag("department-name", in: refused.body)?.contains("value=\"Typed desk\"") == true)
        let added = try await settings.postForm("/admin/support/departments", ["_csrf": csrf, "_form": "department", "name": "Help desk", "email": "help@example.com", "public": "1"])
        #expect(added.status == 303 && added.header("Location") == "/admin/support/departments")
        let listed = try await settings.get("/admin/support/departments")
        // Names link to the queue only for staff who may read it.
        #expect(listed.body.contains("<td>Help desk</td>") && !listed.body.contains("/admin/tickets?department_id="))

        let refusedPage = try await support.get("/admin/support/departments")
        #expect(refusedPage.status == 403 && refusedPage.body.contains("settings.manage"), "\(refusedPage.status)")
        let supportCSRF = try #require(NodeLiveTests.csrfToken(in: try await support.get("/admin/tickets").body))
        #expect(try await support.postForm("/admin/support/departments", ["_csrf": supportCSRF, "name": "Sneaky", "email": "sneaky@example.com"]).status == 403)
        let queue = try await support.get("/admin/tickets")
        #expect(queue.body.contains("Help desk") && !queue.body.contains("href=\"/admin/support/departments\">Add a department"))
    }
}
