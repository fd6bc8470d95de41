import Foundation
import SteadfastTestSupport
import Testing

/// The audit trail through a real node (docs/accounts.md, "Audit trail"): an event carries the
/// request's id, the node and the client's IP; a client reads only their own security events;
/// staff search by actor and object, on the API and the staff page; clients cannot.
@Suite(.serialized) struct AuditLiveTests {
    @Test func eventsCarryTheirOriginAndEachSideSeesWhatItMay() async throws {
        let live = try await BillingLive.start(.sqlite, name: "audit")
        defer { live.stop() }
        let alice = try await live.client("alice")
        let renamed = try await alice.send(
            "PUT", "/api/v1/me", headers: ["Content-Type": "application/json", "X-Request-ID": "audit-req-1"],
            body: Array(#"{"name": "Alice Renamed"}"#.utf8)
        )
        #expect(renamed.status == 200, "\(renamed.body)")

        let own = try await alice.get("/api/v1/me/security-events")
        let events = try #require(own.json["items"] as? [[String: Any]], "\(own.status) \(own.body)")
        #expect(events.compactMap { $0["action"] as? String } == ["account.profile_updated", "account.logged_in", "account.registered"])
        let profile = try #require(events.first)
        #expect(profile["request_id"] as? String == "audit-req-1")
        #expect(profile["node_id"] as? String == "audit-solo")
        #expect(profile["ip"] as? String == "127.0.0.1")
        let actor = try #require(profile["actor"] as? [String: Any])
        let aliceID = try #require(actor["account_id"] as? String)
        #expect(actor["kind"] as? String == "account" && profile["account_id"] as? String == aliceID)
        let changes = try #require(profile["changes"] as? [String: Any])
        #expect((changes["before"] as? [String: Any])?["name"] as? String == "alice" && (changes["after"] as? [String: Any])?["name"] as? String == "Alice Renamed", "\(changes)")

        // Bob sees only his own, and no staff list.
        let bob = try await live.client("bob")
        let bobs = try await bob.get("/api/v1/me/security-events")
        #expect(bobs.status == 200 && !bobs.body.contains(aliceID), "\(bobs.body.prefix(300))")
        #expect(try await bob.get("/api/v1/admin/audit-events").status == 403)
        #expect(try await bob.get("/admin/audit").status == 403)
        #expect(try await live.nodes[0].client().get("/api/v1/me/security-events").status == 401)

        // Staff search by actor and by object; a bad page is a 400 naming the parameter.
        // The registration was made by nobody logged in (actor: system); it concerns Alice all the same.
        let byActor = try await live.staff.get("/api/v1/admin/audit-events?actor=\(aliceID)")
        #expect((byActor.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["account.profile_updated", "account.logged_in"], "\(byActor.body.prefix(500))")
        let registered = try await live.staff.get("/api/v1/admin/audit-events?actor=system&object=account:\(aliceID)")
        #expect((registered.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["account.registered"], "\(registered.body.prefix(500))")
        let byObject = try await live.staff.get("/api/v1/admin/audit-events?object=account:\(aliceID)&limit=1")
        #expect((byObject.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } == ["account.profile_updated"], "\(byObject.body.prefix(500))")
        let bad = try await live.staff.get("/api/v1/admin/audit-events?limit=lots")
        #expect(bad.status == 400 && bad.body.contains("limit"))

        // The pages: the client's account page and the staff page with its filter.
        #expect(try await alice.get("/account").body.contains("account.profile_updated"))
        let page = try await live.staff.get("/admin/audit?actor=\(aliceID)")
        #expect(page.status == 200 && page.body.contains("account.profile_updated") && page.body.contains("audit-req-1"), "\(page.status)")
        // Sorted by action (keeping the filter), marked with aria-sort; a column or direction the
        // list does not offer is a 400 on the page and in the API.
        let byAction = try await live.staff.get("/admin/audit?actor=\(aliceID)&sort=action&dir=asc")
        #expect(byAction.status == 200 && byAction.body.contains("aria-sort=\"ascending\"") && byAction.body.contains("account.profile_updated"), "\(byAction.status)")
        #expect(try await live.staff.get("/admin/audit?sort=ip").status == 400)
        let apiByAction = try await live.staff.get("/api/v1/admin/audit-events?actor=\(aliceID)&sort=action&dir=desc&limit=100")
        let actions = (apiByAction.json["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
        #expect(apiByAction.status == 200 && !actions.isEmpty && actions == actions.sorted(by: >), "\(actions)")
        let badSort = try await live.staff.get("/api/v1/admin/audit-events?sort=changes")
        #expect(badSort.status == 400 && badSort.body.contains("sort"))
        #expect(try await live.staff.get("/api/v1/admin/audit-events?dir=sideways").status == 400)
    }
}
