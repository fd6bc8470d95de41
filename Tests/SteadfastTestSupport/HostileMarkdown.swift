import Foundation

/// Markdown that tries to put script into a page, and what must never come out of it.
public enum HostileMarkdownCorpus {
    public static let all: [String] = [
        "<script>alert(1)</script>",
        "Hello <script src=//evil.example/x.js></script> there",
        "<img src=x onerror=alert(1)>",
        "<img src=\"x\" onerror=\"alert(1)\">",
        "<IMG SRC=x OnError=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<a href=\"javascript:alert(1)\">click</a>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click]( javascript:alert(1))",
        "[click](java\tscript:alert(1))",
        "[click](jav&#x61;script:alert(1))",
        "[click](jav&#97;script:alert(1))",
        "[click](javascript&colon;alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml,<svg onload=alert(1)>)",
        "[x](\" onmouseover=\"alert(1))",
        "![x\" onerror=\"alert(1)](y.png)",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "<scr<script>ipt>alert(1)</script>",
        "<<script>script>alert(1)<</script>/script>",
        "<p style=\"background:url(javascript:alert(1))\">x</p>",
        "<a href=\"http://ok.example\" onclick=\"alert(1)\">ok</a>",
        "<div onmouseover='alert(1)'>hover</div>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=javascript:alert(1)>",
        "<form action=javascript:alert(1)><button>go</button></form>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        "<!--<img src=x onerror=alert(1)>-->",
        "<style>body{background:red}</style>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "`<script>alert(1)</script>`",
        "```\n<script>alert(1)</script>\n```",
        "> <script>alert(1)</script>",
        "* <img src=x onerror=alert(1)>",
        "| a |\n| - |\n| <script>alert(1)</script> |",
        "# <script>alert(1)</script>",
        "**<img src=x onerror=alert(1)>**",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<a href=\"java&Tab;script:alert(1)\">x</a>",
        "<a href=\"\u{0}javascript:alert(1)\">x</a>",
        "<a href=\"\u{200B}javascript:alert(1)\">x</a>",
        "<a\nhref=\"javascript:alert(1)\">x</a>",
        "<a href='javascript:alert(1)'>x</a>",
        "<a href=javascript:alert(1)>x</a>",
        "<img/src=x/onerror=alert(1)>",
        "<img src=x\nonerror=alert(1)>",
        "<a href=\"x\" title=\"\"><script>alert(1)</script>\">x</a>",
        "<td align=\"left\" onclick=\"alert(1)\">x</td>",
        "<ol start=\"1 onclick=alert(1)\"><li>x</li></ol>",
        "<code class=\"language-x onmouseover=alert(1)\">x</code>",
        "<a href=\"https://ok.example/\" target=\"_blank\">ok</a>",
        "</p><script>alert(1)</script><p>",
        "<",
        "<a",
        "<a href=\"unterminated",
    ]

    /// Checks the sanitised HTML of one input; returns what is wrong (empty: nothing). Every `<`
    /// must open an allowed tag with only allowed attributes, every link and image must be
    /// relative or http(s)/mailto; escaped text (`&lt;script&gt;`) is harmless and allowed.
    public static func problems(in html: String) -> [String] {
        var found: [String] = []
        let tags = html.matches(of: /<(\/?)([^\s>\/]*)([^>]*)>/)
        if tags.count != html.filter({ $0 == "<" }).count { found.append("a < that is not an allowed tag") }
        for tag in tags {
            let name = String(tag.2).lowercased()
            if !HTMLSanitizerAllowed.tags.contains(name) { found.append("tag \(name)") }
            let attributes = String(tag.3)
            let parsed = attributes.matches(of: /\s([^\s=]+)="([^"]*)"/)
            // Nothing but well-formed, double-quoted attributes.
            if parsed.map({ String($0.0) }).joined() != attributes { found.append("malformed attributes \(attributes)") }
            for attribute in parsed {
                let key = String(attribute.1).lowercased()
                if !HTMLSanitizerAllowed.attributes.contains(key) { found.append("attribute \(key)") }
                let value = String(attribute.2).lowercased()
                if key == "href" || key == "src", let colon = value.firstIndex(of: ":"), !value[..<colon].contains(where: { "/?#".contains($0) }),
                   !["http", "https", "mailto"].contains(String(value[..<colon])) {
                    found.append("\(key) \(value)")
                }
            }
        }
        return found
    }
}

enum HTMLSanitizerAllowed {
    static let tags: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "hr", "br", "a", "img", "table", "thead", "tbody", "tr", "th", "td"]
    static let attributes: Set<String> = ["href", "rel", "title", "src", "alt", "start", "class", "align"]
}

