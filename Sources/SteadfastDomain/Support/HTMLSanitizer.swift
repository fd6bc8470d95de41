import Foundation

/// Makes HTML from a Markdown renderer safe to put in a page: an allow-list re-serialiser.
///
/// The Markdown renderer (Ink) passes raw HTML through and writes link targets into `href`
/// unchecked, so its output is read here as untrusted text and written out again:
///
/// - Only the tags Markdown produces survive (`p`, `h1`–`h6`, `em`, `strong`, `a`, `img`, lists,
///   tables, …), each re-written from its parsed name with only its allowed attributes
///   (`a href title`, `img src alt title`, `ol start` as a number, `code class` as
///   `language-…`, `th`/`td align`), every value escaped again. Event handlers, `style` and
///   every other attribute are dropped.
/// - Any other tag (`script`, `iframe`, `svg`, `style`, …), comments, and a `<` that does not
///   start a well-formed tag are shown as text: `<` becomes `&lt;`.
/// - A URL is kept only when, with entities decoded and the whitespace and control characters
///   browsers ignore removed, it is relative or uses `http`, `https` or `mailto`; so no
///   `javascript:`, `data:` or `vbscript:` link or image stays, however it is spelled.
/// - Tags are balanced: a stray end tag is dropped and open ones are closed at the end, so an
///   article cannot break the page around it.
///
/// The output therefore contains no byte sequence a browser would read as script, whatever
/// the input.
public enum HTMLSanitizer {
    static let allowedTags: Set<String> = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "s", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "hr", "br", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
    ]
    static let voidTags: Set<String> = ["hr", "br", "img"]
    static let allowedSchemes: Set<String> = ["http", "https", "mailto"]

    public static func sanitize(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count + 64)
        var open: [String] = []
        let scalars = Array(html.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<", let (tag, end) = parseTag(scalars, from: index) {
                index = end
                guard allowedTags.contains(tag.name) else {
                    // Not a tag Markdown makes: show its source.
                    output += escapeText(String(String.UnicodeScalarView(scalars[tag.start..<end])))
                    continue
                }
                if tag.closing {
                    guard let position = open.lastIndex(of: tag.name) else { continue }
                    for name in open[position...].reversed() { output += "</\(name)>" }
                    open.removeSubrange(position...)
                } else {
                    output += render(tag)
                    if !voidTags.contains(tag.name) { open.append(tag.name) }
                }
                continue
            }
            output += escapeText(scalar, next: scalars, at: index)
            index += 1
        }
        for name in open.reversed() { output += "</\(name)>" }
        return output
    }

    struct Tag {
        var start: Int
        var name: String
        var closing: Bool
        var attributes: [(name: String, value: String)]
    }

    /// Parses `<name attr="v" attr='v' attr=v attr>` or `</name>` starting at `start`; nil when
    /// the text there is not a well-formed tag (then the `<` is text).
    static func parseTag(_ s: [Unicode.Scalar], from start: Int) -> (Tag, Int)? {
        var i = start + 1
        var closing = false
        if i < s.count, s[i] == "/" { closing = true; i += 1 }
        let nameStart = i
        while i < s.count, s[i].isASCII, s[i].properties.isAlphabetic || (i > nameStart && ("0"..."9").contains(s[i])) { i += 1 }
        guard i > nameStart else { return nil }
        let name = String(String.UnicodeScalarView(s[nameStart..<i])).lowercased()
        var attributes: [(String, String)] = []
        while true {
            let before = i
            while i < s.count, s[i].properties.isWhitespace { i += 1 }
            guard i < s.count else { return nil }
            if s[i] == ">" { return (Tag(start: start, name: name, closing: closing, attributes: attributes), i + 1) }
            if s[i] == "/", i + 1 < s.count, s[i + 1] == ">" { return (Tag(start: start, name: name, closing: closing, attributes: attributes), i + 2) }
            // Attributes must be separated from the name and from each other by whitespace.
            guard i > before, !closing else { return nil }
            let attributeStart = i
            while i < s.count, !s[i].properties.isWhitespace, !"\"'>/=<`".unicodeScalars.contains(s[i]) { i += 1 }
            guard i > attributeStart else { return nil }
            let attribute = String(String.UnicodeScalarView(s[attributeStart..<i])).lowercased()
            while i < s.count, s[i].properties.isWhitespace { i += 1 }
            var value = ""
            if i < s.count, s[i] == "=" {
                i += 1
                while i < s.count, s[i].properties.isWhitespace { i += 1 }
                guard i < s.count else { return nil }
                if s[i] == "\"" || s[i] == "'" {
                    let quote = s[i]
                    i += 1
                    let valueStart = i
                    while i < s.count, s[i] != quote { i += 1 }
                    guard i < s.count else { return nil }
                    value = String(String.UnicodeScalarView(s[valueStart..<i]))
                    i += 1
                } else {
                    let valueStart = i
                    while i < s.count, !s[i].properties.isWhitespace, !"\"'<>=`".unicodeScalars.contains(s[i]) { i += 1 }
                    guard i > valueStart else { return nil }
                    value = String(String.UnicodeScalarView(s[valueStart..<i]))
                }
            }
            attributes.append((attribute, value))
        }
    }

    /// The tag written anew with only its allowed attributes.
    static func render(_ tag: Tag) -> String {
        var kept: [(String, String)] = []
        func value(_ name: String) -> String? { tag.attributes.first { $0.name == name }.map { decodeEntities($0.value) } }
        switch tag.name {
        case "a":
            if let href = value("href").flatMap(safeURL) { kept.append(("href", href)); kept.append(("rel", "nofollow noopener noreferrer")) }
            if let title = value("title") { kept.append(("title", title)) }
        case "img":
            if let src = value("src").flatMap(safeURL) { kept.append(("src", src)) }
            kept.append(("alt", value("alt") ?? ""))
            if let title = value("title") { kept.append(("title", title)) }
        case "ol":
            if let start = value("start"), let number = Int(start), (0...1_000_000).contains(number) { kept.append(("start", String(number))) }
        case "code":
            if let language = value("class"), language.wholeMatch(of: /language-[A-Za-z0-9_+#.-]{1,40}/) != nil { kept.append(("class", language)) }
        case "th", "td":
            if let align = value("align")?.lowercased(), ["left", "center", "right"].contains(align) { kept.append(("align", align)) }
        default:
            break
        }
        return "<\(tag.name)" + kept.map { " \($0.0)=\"\(MarkupEscaping.escape($0.1))\"" }.joined() + ">"
    }

    /// The URL if it is relative or uses an allowed scheme, as browsers would read it.
    static func safeURL(_ raw: String) -> String? {
        // Browsers drop leading/trailing spaces and ignore tabs and newlines anywhere in a URL.
        let cleaned = String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }))
        guard !cleaned.isEmpty else { return nil }
        // Any other invisible or format character could hide a scheme: refuse such URLs.
        guard !cleaned.unicodeScalars.contains(where: { $0.properties.generalCategory == .format || $0.properties.generalCategory == .control }) else { return nil }
        if let colon = cleaned.firstIndex(of: ":") {
            let beforeColon = cleaned[..<colon]
            // A colon after a /, ? or # is part of a relative URL's path or query.
            if !beforeColon.contains(where: { "/?#".contains($0) }) {
                guard allowedSchemes.contains(beforeColon.lowercased()) else { return nil }
            }
        }
        // A protocol-relative or backslash URL may point anywhere but runs no script; allowed.
        return cleaned
    }

    /// Decodes the character references a browser decodes in an attribute value: numeric ones
    /// and the named ones that matter for URLs. An unknown named reference is left as it is
    /// (it cannot turn into a scheme letter, and `&` is escaped again on output).
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "colon": ":", "tab": "\t", "newline": "\n",
            "sol": "/", "lpar": "(", "rpar": ")", "period": ".", "comma": ",", "semi": ";", "nbsp": "\u{A0}",
        ]
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            rest = rest[rest.index(after: amp)...]
            // Browsers accept references without the closing ';' too.
            if rest.first == "#" {
                var digits = rest.dropFirst()
                let hex = digits.first == "x" || digits.first == "X"
                if hex { digits = digits.dropFirst() }
                let number = digits.prefix { hex ? $0.isHexDigit : $0.isASCII && $0.isNumber }
                if !number.isEmpty, let value = UInt32(number.prefix(8), radix: hex ? 16 : 10) {
                    result.unicodeScalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                    rest = digits[number.endIndex...]
                    if rest.first == ";" { rest = rest.dropFirst() }
                    continue
                }
            } else {
                let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) }
                if let replacement = named[name.lowercased()] {
                    result += replacement
                    rest = rest[name.endIndex...]
                    if rest.first == ";" { rest = rest.dropFirst() }
                    continue
                }
            }
            result += "&"
        }
        return result + rest
    }

    static func escapeText(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        return scalars.indices.map { escapeText(scalars[$0], next: scalars, at: $0) }.joined()
    }

    /// One character of text: `<` and `>` always escaped; `&` kept only when it starts a
    /// character reference (`&amp;`, `&#39;`, `&#x27;`), so authors' entities still show.
    static func escapeText(_ scalar: Unicode.Scalar, next scalars: [Unicode.Scalar], at index: Int) -> String {
        switch scalar {
        case "<": return "&lt;"
        case ">": return "&gt;"
        case "\0": return "\u{FFFD}"
        case "&":
            var i = index + 1
            if i < scalars.count, scalars[i] == "#" {
                i += 1
                if i < scalars.count, scalars[i] == "x" || scalars[i] == "X" { i += 1 }
            }
            let start = i
            while i < scalars.count, i - start < 32, scalars[i].isASCII, scalars[i].properties.isAlphabetic || ("0"..."9").contains(scalars[i]) { i += 1 }
            return i > start && i < scalars.count && scalars[i] == ";" ? "&" : "&amp;"
        default:
            return String(scalar)
        }
    }
}
