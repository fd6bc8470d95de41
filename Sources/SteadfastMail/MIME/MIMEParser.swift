import Foundation

/// One MIME entity: its headers, and either a decoded body or child parts (multipart).
public struct MIMEPart: Sendable {
    /// Header fields in order, names as written, values unfolded (not yet encoded-word decoded).
    public var headers: [(name: String, value: String)]
    /// `type/subtype`, lower-cased (`text/plain` when absent, RFC 2045 §5.2).
    public var contentType: String
    /// Content-Type parameters, names lower-cased, RFC 2231 continuations joined and decoded.
    public var parameters: [String: String]
    /// The body after Content-Transfer-Encoding (empty for a multipart).
    public var body: [UInt8]
    public var parts: [MIMEPart]

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public func headers(named name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// Content-Disposition's value (`attachment`, `inline`) and parameters.
    public var disposition: (value: String, parameters: [String: String])? {
        header("Content-Disposition").map { MIMEParser.parseParameterized($0) }
    }

    /// The file name from Content-Disposition `filename` or Content-Type `name`, decoded.
    public var filename: String? {
        let raw = disposition?.parameters["filename"] ?? parameters["name"]
        return raw.map(EncodedWord.decode).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The body as text in its declared charset (UTF-8 when none; unknown charsets read as
    /// UTF-8 with replacement characters, never refused).
    public var text: String {
        let charset = parameters["charset"] ?? "utf-8"
        return Charsets.decode(body, charset: charset) ?? String(decoding: body, as: UTF8.self)
    }

    /// Every leaf part, depth first.
    public var leaves: [MIMEPart] {
        parts.isEmpty ? [self] : parts.flatMap(\.leaves)
    }
}

/// Why a message cannot be read.
public struct MIMEParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "malformed message: \(message)" }
}

/// A MIME (RFC 2045–2047, 2231) and RFC 5322 parser. Pure: bytes in, a tree of parts out.
/// Tolerant as mail readers must be (LF or CRLF, missing final boundaries, unknown charsets and
/// encodings), and bounded: at most ``maxDepth`` nested multiparts and ``maxParts`` parts.
public enum MIMEParser {
    public static let maxDepth = 16
    public static let maxParts = 500

    public static func parse(_ bytes: [UInt8]) throws -> MIMEPart {
        var count = 0
        return try parse(bytes[...], depth: 0, count: &count)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int, count: inout Int) throws -> MIMEPart {
        count += 1
        guard count <= maxParts else { throw MIMEParseError(message: "more than \(maxParts) parts") }
        let (headerBytes, bodyBytes) = splitHeaderAndBody(bytes)
        let headers = parseHeaders(headerBytes)
        let typeHeader = headers.first { $0.name.caseInsensitiveCompare("Content-Type") == .orderedSame }?.value
        var (contentType, parameters) = typeHeader.map(parseParameterized) ?? ("text/plain", [:])
        if !contentType.contains("/") { (contentType, parameters) = ("text/plain", [:]) }
        var part = MIMEPart(headers: headers, contentType: contentType, parameters: parameters, body: [], parts: [])
        if contentType.hasPrefix("multipart/"), let boundary = parameters["boundary"], !boundary.isEmpty {
            guard depth < maxDepth else { throw MIMEParseError(message: "multiparts nested deeper than \(maxDepth)") }
            for section in splitMultipart(bodyBytes, boundary: Array(boundary.utf8)) {
                part.parts.append(try parse(section, depth: depth + 1, count: &count))
            }
            return part
        }
        let encoding = (headers.first { $0.name.caseInsensitiveCompare("Content-Transfer-Encoding") == .orderedSame }?.value ?? "7bit")
            .trimmingCharacters(in: .whitespaces).lowercased()
        switch encoding {
        case "base64": part.body = decodeBase64(bodyBytes)
        case "quoted-printable": part.body = QuotedPrintable.decode(Array(bodyBytes))
        default: part.body = Array(bodyBytes)
        }
        return part
    }

    /// Headers end at the first empty line (CRLF CRLF or LF LF); a message without one is all headers.
    static func splitHeaderAndBody(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var index = bytes.startIndex
        // A part that starts with an empty line has no headers.
        if bytes.first == 10 { return (bytes[index..<index], bytes.dropFirst()) }
        if bytes.starts(with: [13, 10]) { return (bytes[index..<index], bytes.dropFirst(2)) }
        while index < bytes.endIndex {
            if bytes[index] == 10 {
                let next = index + 1
                if next < bytes.endIndex, bytes[next] == 10 { return (bytes[..<index], bytes[(next + 1)...]) }
                if next + 1 < bytes.endIndex, bytes[next] == 13, bytes[next + 1] == 10 { return (bytes[..<index], bytes[(next + 2)...]) }
            }
            index += 1
        }
        return (bytes, bytes[bytes.endIndex...])
    }

    /// Unfolds and splits header lines. 8-bit header bytes are read as UTF-8 when valid, else
    /// as Windows-1252.
    static func parseHeaders(_ bytes: ArraySlice<UInt8>) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for rawLine in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            var line = Array(rawLine)
            if line.last == 13 { line.removeLast() }
            let text = String(validating: line, as: UTF8.self) ?? Charsets.decodeSingleByte(line, high: Charsets.windows1252High)
            if let first = text.first, first == " " || first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].value += " " + text.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.contains(" ") else { continue }
            fields.append((name, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return fields
    }

    /// `value; a=b; c="d e"; f*=utf-8''%E2%82%AC; g*0="x"; g*1="y"` → ("value", [a: b, c: "d e", f: "€", g: "xy"]).
    static func parseParameterized(_ header: String) -> (String, [String: String]) {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in header {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" && quoted { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted { pieces.append(current); current = ""; continue }
            current.append(character)
        }
        pieces.append(current)
        let value = pieces[0].trimmingCharacters(in: .whitespaces).lowercased()
        var simple: [String: String] = [:]
        var continued: [String: [(Int, String, Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let raw = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            var extended = false
            if name.hasSuffix("*") { extended = true; name.removeLast() }
            if let star = name.lastIndex(of: "*"), let index = Int(name[name.index(after: star)...]) {
                continued[String(name[..<star]), default: []].append((index, raw, extended))
            } else {
                simple[name] = extended ? decodeExtended(raw, first: true) : raw
            }
        }
        for (name, sections) in continued where simple[name] == nil {
            let ordered = sections.sorted { $0.0 < $1.0 }
            let firstExtended = ordered.first?.2 ?? false
            var bytes: [UInt8] = []
            var charset = "utf-8"
            for (position, section) in ordered.enumerated() {
                if section.2 {
                    var text = Substring(section.1)
                    if position == 0, firstExtended {
                        let parts = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                        if parts.count == 3 { charset = String(parts[0]); text = parts[2] }
                    }
                    bytes += percentDecoded(text)
                } else {
                    bytes += Array(section.1.utf8)
                }
            }
            simple[name] = Charsets.decode(bytes, charset: charset) ?? String(decoding: bytes, as: UTF8.self)
        }
        return (value, simple)
    }

    /// RFC 2231 `charset'language'percent-encoded`.
    static func decodeExtended(_ raw: String, first: Bool) -> String {
        let parts = raw.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return String(decoding: percentDecoded(Substring(raw)), as: UTF8.self) }
        let bytes = percentDecoded(parts[2])
        return Charsets.decode(bytes, charset: String(parts[0])) ?? String(decoding: bytes, as: UTF8.self)
    }

    static func percentDecoded(_ text: Substring) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// The sections between `--boundary` lines (the preamble and epilogue dropped). A missing
    /// closing boundary ends the last section at the end of the body.
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var sections: [ArraySlice<UInt8>] = []
        var sectionStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: 10) ?? body.endIndex
            let line = body[lineStart..<lineEnd]
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let isClose = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                let trailing = (isClose ? rest.dropFirst(2) : rest).allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
                if trailing {
                    if let start = sectionStart {
                        // The line break before the delimiter belongs to the delimiter.
                        var end = lineStart
                        if end > start, body[end - 1] == 10 { end -= 1 }
                        if end > start, body[end - 1] == 13 { end -= 1 }
                        sections.append(body[start..<max(start, end)])
                    }
                    if isClose { return sections }
                    sectionStart = lineEnd < body.endIndex ? lineEnd + 1 : body.endIndex
                }
            }
            lineStart = lineEnd < body.endIndex ? lineEnd + 1 : body.endIndex
        }
        if let start = sectionStart, start < body.endIndex { sections.append(body[start...]) }
        return sections
    }

    /// Base64 ignoring line breaks and anything outside the alphabet; stops at padding.
    static func decodeBase64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - 71)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte) + 4
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): return out
            default: continue
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
