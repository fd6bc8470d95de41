import Mustache
import SteadfastDomain

/// The HTML escaping used by every portal template: `<`, `>`, `&`, `"` and `'` become entities,
/// by the one escaper, ``MarkupEscaping`` (SteadfastDomain).
///
/// swift-mustache's built-in HTML escaping looks every `Character` up in a dictionary (a hash per
/// character, about a tenth of an invoice page's CPU time); ``MarkupEscaping`` scans UTF-8 bytes
/// and returns the string untouched when there is nothing to escape. It escapes a superset of the
/// built-in one: a `<` carrying a combining mark is one `Character` the built-in table misses, but
/// still the byte `<` there. ``PageRenderer`` registers it under ``name`` and starts every
/// template with the `{{% CONTENT_TYPE: PORTAL_HTML}}` pragma (a template without it falls back
/// to the built-in escaping, never to none).
struct PortalHTMLEscaping: MustacheContentType {
    static let name = "PORTAL_HTML"
    static let pragma = "{{% CONTENT_TYPE: \(name)}}"

    func escapeText(_ text: String) -> String {
        MarkupEscaping.escape(text)
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
