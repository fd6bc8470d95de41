import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// A full short list on a live node (docs/support.md, "Short lists"): the API answers 409 with
/// `{"error": ...}` naming the limit, the HTML form comes back with the message and a 409, and
/// neither writes a row or an audit event.
@Suite struct ShortListLiveTests {
    @Test func aFullListIsRefusedOnTheAPIAndTheForm() async throws {
        let live = try await BillingLive.start(.sqlite, name: "short_lists")
        defer { live.stop() }
        let path = live.nodes[0].workingDirectory.appendingPathComponent("steadfast-data/steadfast.sqlite").path
        let sqlite = try await SQLiteEngine.open(path: path, logger: Logger(label: "short-lists"))
        do {
            let now = Date()
            try await sqlite.transaction { tx in
                for i in 0..<ShortList.limit {
                    try await DepartmentRepository(tx).insert(CannedReply(id: UUID(), title: "R\(i)", body: "b", createdAt: now))
                    try await ContentRepository(tx).insert(KBCategory(id: UUID(), name: "C\(i)", slug: "c-\(i)", description: "", createdAt: now))
                }
            }
            let audited = try await sqlite.first("SELECT COUNT(*) AS n FROM audit_events")?.int("n")
            let staff = live.staff

            let api = try await staff.postJSON("/api/v1/admin/support/canned-replies", ["title": "One more", "body": "text"])
            let apiMessage = (api.json["error"] as? [String: Any])?["message"] as? String
            #expect(api.status == 409 && apiMessage == ShortList.cannedReplies.fullMessage, "\(api.status) \(api.body.prefix(300))")
            #expect(apiMessage?.contains("\(ShortList.limit)") == true)
            let kb = try await staff.postJSON("/api/v1/admin/kb/categories", ["name": "One more"])
            #expect(kb.status == 409 && (kb.json["error"] as? [String: Any])?["message"] as? String == ShortList.kbCategories.fullMessage, "\(kb.status) \(kb.body.prefix(300))")

            let csrf = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin").body))
            let form = try await staff.postForm("/admin/support/canned-replies", ["_csrf": csrf, "title": "One more", "body": "text"])
            #expect(form.status == 409 && form.body.contains(ShortList.cannedReplies.fullMessage), "\(form.status) \(form.body.prefix(300))")
            let kbForm = try await staff.postForm("/admin/kb/categories", ["_csrf": csrf, "_form": "category", "name": "Typed name"])
            #expect(kbForm.status == 409 && kbForm.body.contains(ShortList.kbCategories.fullMessage) && kbForm.body.contains("value=\"Typed name\""), "\(kbForm.status) \(kbForm.body.prefix(300))")

            #expect(try await sqlite.first("SELECT COUNT(*) AS n FROM canned_replies")?.int("n") == Int64(ShortList.limit))
            #expect(try await sqlite.first("SELECT COUNT(*) AS n FROM kb_categories")?.int("n") == Int64(ShortList.limit))
            #expect(try await sqlite.first("SELECT COUNT(*) AS n FROM audit_events")?.int("n") == audited)
            try await sqlite.close()
        } catch {
            try? await sqlite.close()
            throw error
        }
    }
}
