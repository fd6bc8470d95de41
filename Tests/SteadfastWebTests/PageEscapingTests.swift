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

    @Test func pagesAndPartialsEscapeWhatTheyShow() throws {
        let renderer = try PageRenderer()
        let hostile = #"<script>alert("x")</script>"#
        let invoices = renderer.library.render([
            "invoices": [["href": #"/x" onmouseover="alert(1)"#, "id": "1", "number": hostile, "issued": "2026-11-30", "due": "2026-12-07", "status": "unpaid", "total": "€1.00", "balance": "€1.00"]],
        ], withTemplate: "client-invoices") ?? ""
        #expect(invoices.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        #expect(!invoices.contains("<script>"))
        #expect(invoices.contains(#"<a href="/x&quot; onmouseover=&quot;alert(1)">"#))
        #expect(invoices.contains(#"<nav class="sub">"#)) // the partial rendered, markup intact
        let layout = renderer.library.render(["title": hostile, "content": "<p>body</p>", "account": ["name": hostile, "isStaff": false] as [String: Any]], withTemplate: "layout") ?? ""
        #expect(!layout.contains("<script>"))
        #expect(layout.contains("<p>body</p>")) // the already-rendered page body is not escaped twice
    }

    @Test func staffNoticesAreShownAboveThePage() throws {
        let renderer = try PageRenderer()
        let notice = "The testcard gateway is enabled <really>"
        let shown = renderer.library.render(["title": "t", "content": "<p>body</p>", "staffNotices": [notice]], withTemplate: "layout") ?? ""
        #expect(shown.contains(#"<p class="staff-notice" role="alert">The testcard gateway is enabled &lt;really&gt;</p>"#))
        let none = renderer.library.render(["title": "t", "content": "<p>body</p>"], withTemplate: "layout") ?? ""
        #expect(!none.contains("staff-notice\""))
    }
}
