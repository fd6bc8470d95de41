/// The one escaper for text put into HTML or XML, in element content and in quoted attribute
/// values alike: `&` `<` `>` `"` `'` become `&amp;` `&lt;` `&gt;` `&quot;` `&#39;` (a numeric
/// reference, valid in XML and every HTML). Used by every portal page (`PortalHTMLEscaping`), the
/// content sanitiser's attributes, the chaos report's SVG and the S3 request bodies.
///
/// It scans UTF-8 bytes, not characters: a `"` or `<` carrying a combining mark is one
/// `Character` but still that byte, so it is escaped too and cannot end an attribute value or
/// open a tag. Text with nothing to escape is returned as it is (no copy); this runs for every
/// variable of every page, so it stays a byte loop.
public enum MarkupEscaping {
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: needsEscaping) else { return text }
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
