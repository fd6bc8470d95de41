import Foundation
import SteadfastTestSupport
import Testing

/// The staff content lists (`/admin/content/announcements`, `/articles`, `/downloads`) and the
/// reader API's lists on a live node: one sort grammar (`sort`, `dir`) with `aria-sort` on the
/// sorted heading, filters, pages, empty states that say what to do, a refused form shown again
/// with what was typed, and 400 naming the parameter for a column, direction or filter a list
/// does not offer.
@Suite struct ContentListsLiveTests {
    static func field(_ response: HTTPTestClient.Response) -> String? {
        (response.json["error"] as? [String: Any])?["field"] as? String
    }

    static func titles(_ response: HTTPTestClient.Response) -> [String] {
        (response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
    }

    /// Whether `texts` appear in `body` in this order.
    static func inOrder(_ body: String, _ texts: [String]) -> Bool {
        let positions = texts.map { body.range(of: $0)?.lowerBound }
        guard positions.allSatisfy({ $0 != nil }) else { return false }
        return zip(positions, positions.dropFirst()).allSatisfy { $0! < $1! }
    }

    @Test func staffContentListsSortFilterPageAndRefuse() async throws {
        let live = try await BillingLive.start(.sqlite, name: "content_lists")
        defer { live.stop() }
        let staff = live.staff
        let visitor = live.nodes[0].client()

        // Nothing yet: each empty list says what to do next.
        let hub = try await staff.get("/admin/content")
        #expect(hub.status == 200 && hub.body.contains("No knowledge-base categories yet") && hub.body.contains("No download categories yet"))
        #expect(hub.body.contains("aria-current=\"page\"") && hub.body.contains("href=\"/admin/content\""))
        let noFiles = try await staff.get("/admin/content/downloads")
        #expect(noFiles.status == 200 && noFiles.body.contains("No files yet. Add a download category first") && !noFiles.body.contains("<table"))
        #expect(try await staff.get("/admin/content/announcements").body.contains("No announcements yet."))
        // The support desk's short lists say so too (docs/support.md, "Short lists").
        let queue = try await staff.get("/admin/tickets")
        #expect(queue.status == 200 && queue.body.contains("No canned replies yet."))

        for (title, published) in [("Bravo news", true), ("alpha news", true), ("Charlie draft", false)] {
            #expect(try await staff.postJSON("/api/v1/admin/announcements", ["title": title, "body": "Text of \(title)", "published": published]).status == 201)
        }
        let category = try #require(try await staff.postJSON("/api/v1/admin/kb/categories", ["name": "Domains"]).json["id"] as? String)
        for (title, published) in [("Transfer a domain", true), ("Renew a domain", false)] {
            #expect(try await staff.postJSON("/api/v1/admin/kb/articles", ["category_id": category, "title": title, "body": "b", "published": published]).status == 201)
        }
        let files = try #require(try await staff.postJSON("/api/v1/admin/downloads/categories", ["name": "Tools"]).json["id"] as? String)
        #expect(try await ContentLiveTests.upload(staff, category: files, name: "small.txt", bytes: Array("tiny".utf8), visibility: "public").status == 201)
        #expect(try await ContentLiveTests.upload(staff, category: files, name: "large.txt", bytes: Array(repeating: 65, count: 300), visibility: "logged_in").status == 201)

        // Pages: sorted by a heading both ways, marked with aria-sort; the filters keep what they name.
        let byTitle = try await staff.get("/admin/content/announcements?sort=title&dir=asc")
        #expect(byTitle.status == 200 && byTitle.body.contains("aria-sort=\"ascending\""))
        #expect(Self.inOrder(byTitle.body, ["alpha news", "Bravo news", "Charlie draft"]), "\(byTitle.body)")
        let byTitleDown = try await staff.get("/admin/content/announcements?sort=title&dir=desc")
        #expect(byTitleDown.body.contains("aria-sort=\"descending\"") && Self.inOrder(byTitleDown.body, ["Charlie draft", "Bravo news", "alpha news"]))
        let drafts = try await staff.get("/admin/content/announcements?state=draft")
        #expect(drafts.body.contains("Charlie draft") && !drafts.body.contains("Bravo news"))
        #expect(try await staff.get("/admin/content/announcements?state=scheduled").body.contains("No scheduled announcements."))
        // One per page: the next page's link keeps the order.
        let first = try await staff.get("/admin/content/announcements?sort=title&dir=asc&limit=1")
        #expect(first.body.contains("alpha news") && !first.body.contains("Bravo news") && first.body.contains("rel=\"next\""))
        let next = try #require(first.body.firstMatch(of: /href="([^"]+)" rel="next"/)?.1).replacingOccurrences(of: "&amp;", with: "&")
        #expect(next.contains("sort=title") && next.contains("dir=asc") && next.contains("offset=1"), "\(next)")
        let second = try await staff.get(String(next))
        #expect(second.body.contains("Bravo news") && !second.body.contains("alpha news") && second.body.contains("rel=\"prev\""))

        let articles = try await staff.get("/admin/content/articles?category_id=\(category)&sort=updated&dir=desc")
        #expect(articles.status == 200 && articles.body.contains("Transfer a domain") && articles.body.contains("Renew a domain"))
        #expect(try await staff.get("/admin/content/articles?state=draft&q=renew").body.contains("Renew a domain"))
        let noMatch = try await staff.get("/admin/content/articles?q=nothing-like-this")
        #expect(noMatch.body.contains("No article matches these filters.") && noMatch.body.contains("Show all articles"))
        let bySize = try await staff.get("/admin/content/downloads?sort=size&dir=desc")
        #expect(bySize.status == 200 && Self.inOrder(bySize.body, ["large.txt", "small.txt"]))
        let loggedIn = try await staff.get("/admin/content/downloads?visibility=logged_in")
        #expect(loggedIn.body.contains("large.txt") && !loggedIn.body.contains("small.txt"))

        // What a list does not offer is 400, on the pages and in the API, naming the parameter.
        for path in [
            "/admin/content/announcements?sort=body", "/admin/content/announcements?sort=title&dir=sideways", "/admin/content/announcements?state=lost",
            "/admin/content/articles?state=scheduled", "/admin/content/articles?sort=slug", "/admin/content/downloads?visibility=secret",
            "/admin/content/downloads?sort=sha256",
        ] {
            #expect(try await staff.get(path).status == 400, "\(path)")
        }
        for (path, parameter) in [
            ("/api/v1/announcements?sort=body", "sort"), ("/api/v1/announcements?sort=title&dir=up", "dir"), ("/api/v1/announcements?state=lost", "state"),
            ("/api/v1/kb/articles?state=scheduled", "state"), ("/api/v1/kb/articles?sort=body", "sort"), ("/api/v1/downloads?visibility=secret", "visibility"),
            ("/api/v1/downloads?sort=file_id", "sort"),
        ] {
            let refused = try await staff.get(path)
            #expect(refused.status == 400 && Self.field(refused) == parameter, "\(path): \(refused.status) \(refused.body)")
        }

        // The API takes the same parameters; a filter never shows a reader more.
        #expect(Self.titles(try await staff.get("/api/v1/announcements?sort=title&dir=desc")) == ["Charlie draft", "Bravo news", "alpha news"])
        #expect(Self.titles(try await staff.get("/api/v1/announcements?state=draft")) == ["Charlie draft"])
        #expect(Self.titles(try await visitor.get("/api/v1/announcements?state=draft")) == [])
        #expect(Self.titles(try await visitor.get("/api/v1/announcements?sort=title")) == ["alpha news", "Bravo news"])
        #expect(Self.titles(try await staff.get("/api/v1/kb/articles?state=published&sort=title&dir=desc")) == ["Transfer a domain"])
        let downloads = try await staff.get("/api/v1/downloads?sort=size&dir=asc&limit=1")
        #expect(downloads.status == 200 && (downloads.json["items"] as? [[String: Any]])?.first?["filename"] as? String == "small.txt" && downloads.json["limit"] as? Int == 1)
        #expect(Self.titles(try await visitor.get("/api/v1/downloads?visibility=logged_in")) == [])

        // A refused form comes back on its page with what was typed, the error beside the field.
        let csrf = try await ContentLiveTests.csrf(staff, page: "/admin/content/announcements")
        let refused = try await staff.postForm("/admin/announcements", ["_csrf": csrf, "_form": "announcement", "title": "", "body": "KEPT-BODY-TEXT", "published": "1"])
        #expect(refused.status == 400 && refused.body.contains("KEPT-BODY-TEXT") && refused.body.contains("error-summary"), "\(refused.status)")
        let saved = try await staff.postForm("/admin/announcements", ["_csrf": csrf, "_form": "announcement", "title": "Delta news", "body": "b", "published": "1"])
        #expect(saved.status == 303 && saved.header("Location") == "/admin/content/announcements")
        #expect(try await staff.get("/admin/content/announcements").body.contains("Delta news"))
    }
}
