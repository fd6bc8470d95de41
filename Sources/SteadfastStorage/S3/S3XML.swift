/// The little XML reading the S3 backend needs: the text of simple elements in S3's
/// responses (`<UploadId>`, `<Contents>`, `<Error><Code>`...). Not a general XML parser:
/// S3 responses are flat, without attributes on the elements read here, CDATA or comments.
enum S3XML {
    /// The text of every `<tag>...</tag>` in `xml`, in order, entities decoded.
    static func values(_ tag: String, in xml: Substring) -> [String] {
        elements(tag, in: xml).map { decodeEntities($0) }
    }

    /// The text of the first `<tag>...</tag>`, entities decoded.
    static func value(_ tag: String, in xml: Substring) -> String? {
        elements(tag, in: xml).first.map { decodeEntities($0) }
    }

    /// The raw inner text of every `<tag>...</tag>` (or `<tag xmlns=...>...</tag>`).
    static func elements(_ tag: String, in xml: Substring) -> [Substring] {
        var results: [Substring] = []
        var rest = xml[...]
        let close = "</\(tag)>"
        while let open = rest.range(of: "<\(tag)") {
            guard let afterName = rest[open.upperBound...].first else { break }
            if afterName != ">" && afterName != " " && afterName != "/" {
                rest = rest[open.upperBound...]
                continue
            }
            guard let endOfOpen = rest[open.upperBound...].firstIndex(of: ">") else { break }
            if rest[rest.index(before: endOfOpen)] == "/" {
                results.append(rest[endOfOpen..<endOfOpen])
                rest = rest[rest.index(after: endOfOpen)...]
                continue
            }
            let contentStart = rest.index(after: endOfOpen)
            guard let end = rest[contentStart...].range(of: close) else { break }
            results.append(rest[contentStart..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return results
    }

    /// Replaces `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` and numeric references.
    static func decodeEntities(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { out += rest[amp...]; return out }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                }
                if let scalar { out.unicodeScalars.append(scalar) } else { out += rest[amp...semicolon] }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        out += rest
        return out
    }
}
