@testable import SteadfastBalancer

/// Generates HTTP/1 requests and responses for the differential fuzz test: a head built from
/// pools of valid and borderline parts, a body that matches the framing the generator meant,
/// then (often) a few random mutations of the bytes.
struct FuzzInput {
    var random: SplitMix64

    init(random: SplitMix64) {
        self.random = random
    }

    private mutating func pick<T>(_ items: [T]) -> T {
        items[Int(random.next() % UInt64(items.count))]
    }

    private mutating func chance(_ percent: UInt64) -> Bool {
        random.next() % 100 < percent
    }

    static let methods = ["GET", "GET", "POST", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "get", "FOO", "M-SEARCH", "G@T"]
    static let targets = ["/", "/a?b=c", "*", "http://h/x", "/%20", "/a%2Fb", "/\"q\"", "/{x}", "/a|b", "/ü", "//x", "/a#f"]
    static let requestVersions = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.10", "HTTP/1"]
    static let statusLines = [
        "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 201 Created", "HTTP/1.0 200 OK", "HTTP/1.1 204 No Content",
        "HTTP/1.1 304 Not Modified", "HTTP/1.1 404 Not Found", "HTTP/1.1 200", "HTTP/1.1 200 ", "HTTP/1.1 999 Odd",
        "HTTP/1.1 20 OK", "HTTP/2.0 200 OK", "HTTP/1.2 200 OK", "http/1.1 200 OK", "HTTP/1.1 200 O\u{01}K",
    ]
    static let contentLengths = ["0", "5", "5", "12", "05", "+5", "-1", "5 5", "5, 5", "5,6", "", "99999999999999999999", "0x5", " 5 "]
    static let transferEncodings = ["chunked", "chunked", "Chunked", "gzip, chunked", "chunked, gzip", "identity", "chunked, chunked", ""]
    static let connections = ["close", "keep-alive", "content-length", "x-a, transfer-encoding", "upgrade", "Keep-Alive, x-b", "host"]
    static let otherFields = [
        "Accept: */*", "X-A: b", "X-Tab:\tv", "X-Ctl: a\u{01}b", "X-Del: a\u{7F}b", "X-Empty:", "Bad Name: x", "Name : x",
        ": empty-name", "X-Spaces:   v   ", "X-Obs: caf\u{E9}", "Cookie: a=1; b=2", "Trailer: X-T", "TE: trailers",
    ]

    /// What the generator means the framing to be, to write a matching body.
    private enum Intent {
        case none, length(Int), chunked
    }

    private mutating func fields(response: Bool) -> ([String], Intent) {
        var lines: [String] = []
        var intent = Intent.none
        if !response && chance(90) { lines.append(pick(["Host: x", "Host: x", "host: example.com:80", "Host:", "Host: a, b"])) }
        for _ in 0..<Int(random.next() % 4) { lines.append(pick(Self.otherFields)) }
        switch random.next() % 10 {
        case 0..<4:
            let value = pick(Self.contentLengths)
            lines.append("Content-Length: \(value)")
            if let n = Int(value.trimmingCharacters(in: [" "])), n >= 0 { intent = .length(n) }
            if chance(10) { lines.append("Content-Length: \(pick(Self.contentLengths))") }
        case 4..<7:
            let value = pick(Self.transferEncodings)
            lines.append("Transfer-Encoding: \(value)")
            intent = .chunked
            if chance(10) { lines.append("Content-Length: 5") }
            if chance(10) { lines.append("Transfer-Encoding: chunked") }
        default:
            break
        }
        if chance(25) { lines.append("Connection: \(pick(Self.connections))") }
        if chance(5) { lines.append(" obs-fold continuation") }
        // Shuffle a little: framing fields are not always last.
        if lines.count > 1 && chance(50) {
            let a = Int(random.next() % UInt64(lines.count))
            let b = Int(random.next() % UInt64(lines.count))
            lines.swapAt(a, b)
        }
        return (lines, intent)
    }

    private mutating func body(_ intent: Intent) -> String {
        switch intent {
        case .none:
            return ""
        case .length(let n):
            return String(repeating: "b", count: min(n, 64))
        case .chunked:
            var text = ""
            for _ in 0..<Int(random.next() % 3) {
                let size = Int(random.next() % 20) + 1
                let ext = chance(15) ? pick([";a=b", ";a=\"q\"", "; a", ";=x", ";a=\"u"]) : ""
                text += String(size, radix: 16) + ext + "\r\n" + String(repeating: "c", count: size) + "\r\n"
            }
            text += chance(10) ? pick(["-1\r\n", "0x0\r\n", "Z\r\n"]) : "0\r\n"
            if chance(15) { text += "X-Trailer: t\r\n" }
            return text + "\r\n"
        }
    }

    private mutating func finish(_ startLine: String, _ fields: [String], _ body: String) -> [UInt8] {
        var head = startLine + "\r\n"
        for field in fields { head += field + "\r\n" }
        var bytes = Array((head + "\r\n" + body).utf8)
        if chance(40) {
            for _ in 0...Int(random.next() % 3) { mutate(&bytes) }
        }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let index = Int(random.next() % UInt64(bytes.count))
        let interesting: [UInt8] = [13, 10, 32, 9, 0, 58, 44, 59, 97, 0x80, 0x7F, 48, 70]
        switch random.next() % 5 {
        case 0: bytes[index] = pick(interesting)
        case 1: bytes.remove(at: index)
        case 2: bytes.insert(pick(interesting), at: index)
        case 3: bytes.insert(contentsOf: [13, 10], at: index)
        default: if bytes[index] == 13 { bytes.remove(at: index) }  // CRLF → bare LF
        }
    }

    mutating func request() -> [UInt8] {
        let startLine = "\(pick(Self.methods)) \(pick(Self.targets)) \(pick(Self.requestVersions))"
        let (lines, intent) = fields(response: false)
        return finish(startLine, lines, body(intent))
    }

    mutating func response() -> [UInt8] {
        let startLine = pick(Self.statusLines)
        let (lines, intent) = fields(response: true)
        var text = body(intent)
        if case .none = intent, chance(70) { text = String(repeating: "u", count: Int(random.next() % 30)) }
        return finish(startLine, lines, text)
    }
}

/// The deliberate differences from NIOHTTP1, each listed with its reason in docs/balancer.md
/// (*Parser differences from NIOHTTP1*). Only these excuse a difference, and only in the
/// direction named: the balancer stricter (it refuses what NIOHTTP1 takes) or NIOHTTP1 stricter.
enum KnownDifference: String, CaseIterable {
    // The balancer is stricter.
    case connectionNamesFramingField = "balancer: Connection names Content-Length, Transfer-Encoding or Host"
    case connectMethod = "balancer: CONNECT"
    case transferCodingOtherThanChunked = "balancer: Transfer-Encoding other than exactly one chunked"
    case chunkExtensionSyntax = "balancer: chunk extension that is not ;token[=token|quoted-string]"
    case controlCharacter = "balancer: control character in a reason phrase or field value"
    case bareLineEnding = "balancer: bare LF or bare CR"
    case obsoleteLineFolding = "balancer: obsolete line folding"
    case httpVersion = "balancer: HTTP version other than 1.0 and 1.1"
    case emptyLineBeforeStatusLine = "balancer: empty line before a status line"
    case hugeContentLength = "balancer: Content-Length of more than 18 digits"
    case requestLineWhitespace = "balancer: request line with other than single spaces"
    case statusBelow100 = "balancer: status code below 100"
    case chunkDataTerminator = "balancer: chunk data not followed by CRLF"
    // NIOHTTP1 is stricter.
    case extensionMethod = "NIOHTTP1: method that is a token but not one llhttp knows"
    case requestTarget = "NIOHTTP1: request target llhttp does not take as a URL"
    case repeatedEqualContentLength = "NIOHTTP1: repeated or listed identical Content-Length"
    case chunkExtensionWhitespace = "NIOHTTP1: whitespace around a chunk extension"
    case contentLengthTab = "NIOHTTP1: HTAB around a Content-Length value"

    typealias Outcome = DifferentialFuzzTests.Outcome

    /// The documented difference that explains `ours` ≠ `nio` for `input`, if there is one.
    static func explain(_ input: [UInt8], ours: Outcome, nio: Outcome, response: Bool) -> KnownDifference? {
        let head = headLines(input)
        switch (ours, nio) {
        case (.refused(let error), .message):
            switch error {
            case "connectionNamesFramingField": return .connectionNamesFramingField
            case "unsupportedMethod": return .connectMethod
            case "unsupportedTransferEncoding": return .transferCodingOtherThanChunked
            case "invalidChunkExtension": return .chunkExtensionSyntax
            case "obsoleteLineFolding": return .obsoleteLineFolding
            case "missingChunkTerminator": return .chunkDataTerminator
            case "unsupportedVersion": return .httpVersion
            case "invalidLineEnding" where hasBareLineEnding(input): return .bareLineEnding
            case "invalidFieldValue" where head.dropFirst().contains(where: hasControlCharacter): return .controlCharacter
            case "invalidStatusLine" where head.first.map(hasControlCharacter) == true: return .controlCharacter
            case "invalidStatusLine" where response && (input.first == 13 || input.first == 10): return .emptyLineBeforeStatusLine
            case "invalidRequestLine" where hasBareLineEnding(input): return .bareLineEnding
            case "truncatedMessage" where hasBareLineEnding(input): return .bareLineEnding
            case "invalidContentLength" where hasHugeContentLength(head): return .hugeContentLength
            case "invalidRequestLine" where head.first.map { String(decoding: $0, as: UTF8.self).contains("  ") } == true:
                return .requestLineWhitespace
            case "invalidStatusLine" where head.first.map(hasStatusBelow100) == true: return .statusBelow100
            default: return nil
            }
        case (.message, .refused(let error)):
            if error.contains("invalid HTTP method"), let method = head.first?.split(separator: UInt8(ascii: " ")).first,
                !llhttpMethods.contains(String(decoding: method, as: UTF8.self))
            {
                return .extensionMethod
            }
            if error.contains("invalid URL") { return .requestTarget }
            if error.contains("invalid character in content-length"),
                head.contains(where: { String(decoding: $0, as: UTF8.self).lowercased().hasPrefix("content-length:") && $0.contains(9) })
            {
                return .contentLengthTab
            }
            if error.contains("strict mode"), let body = bodyText(input),
                body.contains("; ") || body.contains(" ;") || body.contains("\t;") || body.contains(";\t")
            {
                return .chunkExtensionWhitespace
            }
            let lengths = head.dropFirst().filter { line in
                String(decoding: line, as: UTF8.self).lowercased().hasPrefix("content-length:")
            }
            if lengths.count > 1 || lengths.contains(where: { $0.contains(UInt8(ascii: ",")) }) { return .repeatedEqualContentLength }
            return nil
        default:
            return nil
        }
    }

    static let llhttpMethods: Set<String> = [
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND",
        "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE",
        "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "QUERY",
    ]

    /// The bytes after the head's empty line, as text.
    static func bodyText(_ input: [UInt8]) -> String? {
        let text = String(decoding: input, as: UTF8.self)
        return text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) }
    }

    /// The lines of the head (up to the first empty line), without line ends.
    static func headLines(_ input: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if trimmed.isEmpty {
                if lines.isEmpty { continue }  // empty lines before the start line
                break
            }
            lines.append(trimmed)
        }
        return lines
    }

    /// `HTTP/x.y DDD` with a code below 100.
    static func hasStatusBelow100(_ line: ArraySlice<UInt8>) -> Bool {
        let parts = line.split(separator: UInt8(ascii: " "))
        guard parts.count >= 2, parts[1].count == 3, let code = Int(String(decoding: parts[1], as: UTF8.self)) else { return false }
        return code < 100
    }

    /// A `Content-Length` line with a run of more than 18 digits.
    static func hasHugeContentLength(_ head: [ArraySlice<UInt8>]) -> Bool {
        head.dropFirst().contains { line in
            let text = String(decoding: line, as: UTF8.self)
            guard text.lowercased().hasPrefix("content-length:") else { return false }
            return text.split(whereSeparator: { !$0.isNumber }).contains { $0.count > 18 }
        }
    }

    static func hasControlCharacter(_ line: ArraySlice<UInt8>) -> Bool {
        line.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }

    /// An LF without a CR before it, or a CR without an LF after it.
    static func hasBareLineEnding(_ input: [UInt8]) -> Bool {
        for index in input.indices {
            if input[index] == 10 && (index == 0 || input[index - 1] != 13) { return true }
            if input[index] == 13 && (index + 1 == input.count || input[index + 1] != 10) { return true }
        }
        return false
    }
}
