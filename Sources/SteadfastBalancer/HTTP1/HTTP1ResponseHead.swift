import NIOCore
import NIOHTTP1

/// A response head from a backend, validated: the raw bytes (status line through the empty
/// line) with offsets of its parts and fields, and what the proxy needs to know about it.
struct HTTP1ResponseHead {
    /// The head exactly as received.
    let bytes: ByteBuffer
    /// HTTP/1.0 or HTTP/1.1.
    let version: HTTPVersion
    let status: Int
    /// Offsets in ``bytes`` of the status code and reason phrase (`200 OK`), without the CRLF.
    let statusText: Range<Int>
    /// Offset in ``bytes`` where the first field line starts.
    let fieldsStart: Int
    /// The field lines, in order.
    let fields: [HTTP1Field]
    let summary: HTTP1FieldParser.Summary

    /// Whether the backend keeps the connection open after this response (for a body delimited
    /// by the close, the connection ends anyway).
    var isKeepAlive: Bool { summary.isKeepAlive(version: version) }

    /// 1xx, 204 and 304 responses never have a body (RFC 9112 §6.3).
    var statusForbidsBody: Bool {
        status < 200 || status == 204 || status == 304
    }

    /// Parses a complete head (`bytes` ends with its empty line); `fields` is reused storage.
    init(parsing bytes: ByteBuffer, fields: inout [HTTP1Field]) throws(HTTP1ParseError) {
        let head = try HTTP1FieldParser.parseHead(bytes, into: &fields) { bytes throws(HTTP1ParseError) in
            let line = try Self.parseStatusLine(bytes)
            return ((line.version, line.status, line.statusText), line.fieldsStart)
        }
        self.bytes = bytes
        (self.version, self.status, self.statusText) = head.line
        self.fieldsStart = head.fieldsStart
        self.fields = fields
        self.summary = head.summary
    }

    /// `HTTP-version SP 3DIGIT [SP reason-phrase] CRLF`.
    private static func parseStatusLine(
        _ bytes: UnsafeRawBufferPointer
    ) throws(HTTP1ParseError) -> (version: HTTPVersion, status: Int, statusText: Range<Int>, fieldsStart: Int) {
        let count = bytes.count
        // "HTTP/1.1 200\r\n" at least
        guard count >= 14,
            bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"), bytes[3] == UInt8(ascii: "P"),
            bytes[4] == UInt8(ascii: "/"), bytes[6] == UInt8(ascii: "."), bytes[8] == HTTP1Syntax.space
        else { throw .invalidStatusLine }
        guard bytes[5] == UInt8(ascii: "1"), bytes[7] == UInt8(ascii: "0") || bytes[7] == UInt8(ascii: "1") else {
            throw .unsupportedVersion
        }
        var status = 0
        for index in 9..<12 {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw .invalidStatusLine }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard status >= 100 else { throw .invalidStatusLine }
        var index = 12
        if bytes[index] == HTTP1Syntax.space {
            index += 1
            while index < count && bytes[index] != HTTP1Syntax.cr && bytes[index] != HTTP1Syntax.lf {
                guard HTTP1Syntax.isFieldValueChar(bytes[index]) else { throw .invalidStatusLine }
                index += 1
            }
        }
        guard index + 1 < count, bytes[index] == HTTP1Syntax.cr, bytes[index + 1] == HTTP1Syntax.lf else { throw .invalidLineEnding }
        let version: HTTPVersion = bytes[7] == UInt8(ascii: "1") ? .http1_1 : .http1_0
        return (version, status, 9..<index, index + 2)
    }
}
