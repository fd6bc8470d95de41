import NIOCore
import NIOHTTP1

/// A request head as it arrived, validated: the raw bytes (request line through the empty
/// line) with offsets of its parts and fields, and what the proxy needs to know about it.
/// Nothing is copied out of the bytes unless asked for.
struct HTTP1RequestHead {
    /// The head exactly as received.
    let bytes: ByteBuffer
    let method: HTTPMethod
    /// HTTP/1.0 or HTTP/1.1.
    let version: HTTPVersion
    /// The request target's offsets in ``bytes``.
    let target: Range<Int>
    /// Offset in ``bytes`` where the first field line starts.
    let fieldsStart: Int
    /// The field lines, in order.
    let fields: [HTTP1Field]
    let summary: HTTP1FieldParser.Summary

    /// How the body is delimited: a length (0 when there is none) or chunked.
    var framing: HTTP1BodyDecoder.Framing {
        summary.chunked ? .chunked : .length(summary.contentLength ?? 0)
    }

    /// Whether the client wants the connection kept open after this exchange.
    var isKeepAlive: Bool { summary.isKeepAlive(version: version) }

    /// Parses a complete head (`bytes` ends with its empty line); `fields` is reused storage.
    init(parsing bytes: ByteBuffer, fields: inout [HTTP1Field]) throws(HTTP1ParseError) {
        let head = try HTTP1FieldParser.parseHead(bytes, into: &fields) { bytes throws(HTTP1ParseError) in
            let line = try Self.parseRequestLine(bytes)
            return ((line.method, line.version, line.target), line.fieldsStart)
        }
        self.bytes = bytes
        (self.method, self.version, self.target) = head.line
        self.fieldsStart = head.fieldsStart
        self.fields = fields
        self.summary = head.summary
    }

    /// `method SP request-target SP HTTP-version CRLF`, exactly (single spaces, CRLF).
    private static func parseRequestLine(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTP1ParseError) -> (method: HTTPMethod, version: HTTPVersion, target: Range<Int>, fieldsStart: Int) {
        let count = bytes.count
        var index = 0
        while index < count && HTTP1Syntax.isTokenChar(bytes[index]) { index &+= 1 }
        let methodEnd = index
        guard methodEnd > 0, methodEnd < count, bytes[methodEnd] == HTTP1Syntax.space else { throw .invalidRequestLine }
        index &+= 1
        let targetStart = index
        while index < count && HTTP1Syntax.isTargetChar(bytes[index]) { index &+= 1 }
        let targetEnd = index
        guard targetEnd > targetStart, index < count, bytes[index] == HTTP1Syntax.space else { throw .invalidRequestLine }
        index &+= 1
        // "HTTP/1.1\r\n"
        guard count - index >= 10 else { throw .invalidRequestLine }
        guard bytes[index] == UInt8(ascii: "H"), bytes[index + 1] == UInt8(ascii: "T"), bytes[index + 2] == UInt8(ascii: "T"),
            bytes[index + 3] == UInt8(ascii: "P"), bytes[index + 4] == UInt8(ascii: "/"),
            bytes[index + 6] == UInt8(ascii: "."), bytes[index + 8] == HTTP1Syntax.cr, bytes[index + 9] == HTTP1Syntax.lf
        else { throw .invalidRequestLine }
        let major = bytes[index + 5]
        let minor = bytes[index + 7]
        guard major >= UInt8(ascii: "0"), major <= UInt8(ascii: "9"), minor >= UInt8(ascii: "0"), minor <= UInt8(ascii: "9") else {
            throw .invalidRequestLine
        }
        guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else { throw .unsupportedVersion }
        let method = Self.method(bytes, 0..<methodEnd)
        if method == .CONNECT { throw .unsupportedMethod }
        let version: HTTPVersion = minor == UInt8(ascii: "1") ? .http1_1 : .http1_0
        return (method, version, targetStart..<targetEnd, index + 10)
    }

    /// The method for the (case-sensitive) token in `range`; GET, POST and HEAD without a string.
    private static func method(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> HTTPMethod {
        let start = range.lowerBound
        switch range.count {
        case 3 where bytes[start] == UInt8(ascii: "G") && bytes[start + 1] == UInt8(ascii: "E") && bytes[start + 2] == UInt8(ascii: "T"):
            return .GET
        case 4 where bytes[start] == UInt8(ascii: "P") && bytes[start + 1] == UInt8(ascii: "O") && bytes[start + 2] == UInt8(ascii: "S")
            && bytes[start + 3] == UInt8(ascii: "T"):
            return .POST
        case 4 where bytes[start] == UInt8(ascii: "H") && bytes[start + 1] == UInt8(ascii: "E") && bytes[start + 2] == UInt8(ascii: "A")
            && bytes[start + 3] == UInt8(ascii: "D"):
            return .HEAD
        default:
            return HTTPMethod(rawValue: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        }
    }

    /// Checks `Host` as RFC 9112 §3.2 asks of a server: exactly one field on an HTTP/1.1 request,
    /// at most one on HTTP/1.0, and never a list (`Host: a, b` is two hosts merged). The proxy
    /// calls it for every request it would forward (the parser itself only frames); a failure is
    /// a 400, so a backend never has to guess which host a request is for.
    func validateHost() throws(HTTP1ParseError) {
        var count = 0
        var list = false
        withBytes { bytes in
            for field in fields where field.kind == .host {
                count &+= 1
                if field.value.contains(where: { bytes[$0] == HTTP1Syntax.comma }) { list = true }
            }
        }
        if count > 1 || list || (count == 0 && version == .http1_1) { throw .invalidHost }
    }

    /// The bytes of `range` (offsets into ``bytes``) as a string.
    func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }

    /// Calls `body` with the raw bytes of the head.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeReadableBytes(body)
    }
}
