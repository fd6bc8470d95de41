@testable import SteadfastWeb
import Testing

/// Every value a page shows is HTML-escaped, in page templates and partials alike, by the
/// portal's own escaping (``PortalHTMLEscaping``).
@Suite struct PageEscapingTests {
    let escaping = PortalHTMLEscaping()

    @Test func theFiveSpecialCharactersBecomeEntities() {
        #expect(escaping.escapeText(#"<a href="x" title='y'>&</a>"#) == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(escaping.escapeText("&amp;") == "&amp;amp;")
    }

    @Test func otherTextIsReturnedUnchanged() {
        for text in ["", "INV-2026-000123", "€ 12.50", "Zoë — 東京 🚀", "line\nbreak\ttab", "a=b;c/d\\e"] {
            #expect(escaping.escapeText(text) == text)
        }
        #expect(escaping.escapeText("Zoë <b>東京</b> 🚀") == "Zoë &lt;b&gt;東京&lt;/b&gt; 🚀")
    }

    @Test func aCombiningMarkDoesNotHideASpecialCharacter() {
        // "<" + U+0301 is one Character; as bytes it still starts with "<".
        #expect(escaping.escapeText("<\u{301}script>") == "&lt;\u{301}script&gt;")
    }

    @Test func pagesAndPartialsEscapeWhatTheyShow() async throws {
        let renderer = try await PageRenderer.load()
        let hostile = #"<script>alert("x")</script>"#
        let invoices = renderer.library.render([
            "invoices": [[
                "href": #"/x" onmouseover="alert(1)"#, "id": "1", "number": hostile, "issued": "2026-11-30", "due": "2026-12-07",
                "badge": Badge.values("unpaid", label: hostile), "total": "€1.00", "balance": "€1.00",
            ] as [String: Any]],
        ], withTemplate: "billing/invoices") ?? ""
        #expect(invoices.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        #expect(!invoices.contains("<script>"))
        #expect(invoices.contains(#"<a href="/x&quot; onmouseover=&quot;alert(1)">"#))
        #expect(invoices.contains(#"<span class="badge badge-warning">&lt;script&gt;"#)) // the partial rendered, escaped, markup intact
        let layout = renderer.library.render(["title": hostile, "content": "<p>body</p>", "account": ["name": hostile, "isStaff": false] as [String: Any]], withTemplate: "layout") ?? ""
        #expect(!layout.contains("<script>"))
        #expect(layout.contains("<p>body</p>")) // the already-rendered page body is not escaped twice
    }

    @Test func staffNoticesAreShownAboveThePage() async throws {
        let renderer = try await PageRenderer.load()
        let notice = "The testcard gateway is enabled <really>"
        let shown = renderer.library.render(["title": "t", "content": "<p>body</p>", "staffNotices": [notice]], withTemplate: "layout") ?? ""
        #expect(shown.contains(#"<p class="staff-notice" role="alert">The testcard gateway is enabled &lt;really&gt;</p>"#))
        let none = renderer.library.render(["title": "t", "content": "<p>body</p>"], withTemplate: "layout") ?? ""
        #expect(!none.contains("staff-notice\""))
    }

    /// swift-mustache has no `list.0`: a section that must show once for a non-empty list uses
    /// `first(list)` (or `^empty(list)` when the list is always present). The recovery codes
    /// shown once after turning on two-factor log-in used `recoveryCodes.0` and never rendered.
    @Test func aListSectionRendersOnlyWhenTheListHasItems() async throws {
        let renderer = try await PageRenderer.load()
        let shown = renderer.library.render(["recoveryCodes": ["aaaa-bbbb", "cccc-dddd"]], withTemplate: "accounts/two-factor") ?? ""
        #expect(shown.contains("<li><code>aaaa-bbbb</code></li><li><code>cccc-dddd</code></li>") && shown.contains("Keep these recovery codes"))
        let none = renderer.library.render(["canStart": true], withTemplate: "accounts/two-factor") ?? ""
        #expect(!none.contains("Keep these recovery codes"))
        let table = renderer.library.render(["invoices": [[String: Any]]()], withTemplate: "partials/invoice-table") ?? ""
        #expect(!table.contains("<table"))
    }

    /// A decline is never shown in a success colour, waiting never in a failure one.
    @Test func badgesColourByMeaning() {
        #expect(Badge.tone("paid") == .success && Badge.tone("active") == .success)
        #expect(Badge.tone("declined") == .danger && Badge.tone("failed") == .danger && Badge.tone("fraud") == .danger && Badge.tone("terminated") == .danger)
        #expect(Badge.tone("unpaid") == .warning && Badge.tone("pending") == .warning)
        #expect(Badge.tone("something-new") == .neutral)
    }

    /// The layout marks the deepest matching entry, and only that one.
    @Test func navigationMarksTheCurrentPage() {
        let marked = Navigation.values(Navigation.admin, path: "/admin/invoices/123").filter { $0["current"] as? Bool == true }
        #expect(marked.map { $0["href"] as? String } == ["/admin/invoices"])
        #expect(Navigation.values(Navigation.admin, path: "/admin").filter { $0["current"] as? Bool == true }.map { $0["href"] as? String } == ["/admin"])
        #expect(Navigation.values(Navigation.admin, path: "/administration").allSatisfy { $0["current"] as? Bool == false })
    }

    /// A list page knows whether there is a next page from one extra row, and keeps its filters in the links.
    @Test func paginationLinksKeepTheFilters() throws {
        let first = ListPage(Array(0..<3), request: try PageRequest(limit: "2", offset: nil))
        #expect(first.rows == [0, 1] && first.hasMore)
        let links = try #require(first.pagination(path: "/admin/orders", query: ["status": "pending"]))
        #expect(links["nextHref"] as? String == "/admin/orders?status=pending&offset=2&limit=2")
        #expect(links["hasPrevious"] as? Bool == false && links["range"] as? String == "1–2")
        let last = ListPage(Array(0..<1), request: try PageRequest(limit: "2", offset: "2"))
        #expect(!last.hasMore && last.pagination(path: "/x", query: [:])?["previousHref"] as? String == "/x?limit=2")
        #expect(ListPage(Array(0..<2), request: try PageRequest(limit: "2", offset: nil)).pagination(path: "/x", query: [:]) == nil)
    }
}
