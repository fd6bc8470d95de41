import Mustache

/// The HTML escaping used by every portal template: `<`, `>`, `&`, `"` and `'` become entities.
///
/// swift-mustache's built-in HTML escaping looks every `Character` up in a dictionary (a hash per
/// character, about a tenth of an invoice page's CPU time). This one scans UTF-8 bytes and returns
/// the string untouched when there is nothing to escape. It escapes a superset of the built-in one:
/// a `<` carrying a combining mark is one `Character` the built-in table misses, but still the
/// byte `<` here. ``PageRenderer`` registers it under ``name`` and starts every template with the
/// `{{% CONTENT_TYPE: PORTAL_HTML}}` pragma (a template without it falls back to the built-in
/// escaping, never to none).
struct PortalHTMLEscaping: MustacheContentType {
    static let name = "PORTAL_HTML"
    static let pragma = "{{% CONTENT_TYPE: \(name)}}"

    func escapeText(_ text: String) -> String {
        guard text.utf8.contains(where: Self.needsEscaping) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 32)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}

// Strings are most of what pages show. Rendering a variable, swift-mustache first tries the value
// as a template, then as `MustacheCustomRenderable`, then as a lambda, and otherwise unwraps
// optionals and calls `String(describing:)` — dynamic casts that cost more than the escaping.
// Declaring String renderable as itself ends the search at the second cast with the same text
// (`String(describing: s) == s`; `isNull` stays false, as a plain value was treated before).
extension String: @retroactive MustacheCustomRenderable {
    public var renderText: String { self }
    public var isNull: Bool { false }
}
