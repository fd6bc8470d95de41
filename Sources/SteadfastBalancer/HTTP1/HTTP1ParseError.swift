import NIOHTTP1

/// Why bytes from a client or a backend are not an acceptable HTTP/1.1 message. Every case ends
/// the connection: after a framing error nothing that follows on it can be trusted.
enum HTTP1ParseError: Error, Equatable {
    /// The head (start line and fields) or a trailer section is larger than allowed.
    case headTooLarge
    /// The request line is not `method SP request-target SP HTTP-version CRLF`.
    case invalidRequestLine
    /// The status line is not `HTTP-version SP 3DIGIT [SP reason] CRLF`.
    case invalidStatusLine
    /// An HTTP version other than 1.0 and 1.1.
    case unsupportedVersion
    /// `CONNECT` (tunnels are not supported).
    case unsupportedMethod
    /// A field line without a colon, with an empty or invalid name, or whitespace before the colon.
    case invalidFieldName
    /// A control character (other than HTAB) or DEL in a field value.
    case invalidFieldValue
    /// A field line starting with whitespace (obsolete line folding, RFC 9112 §5.2).
    case obsoleteLineFolding
    /// A line ended by a bare LF, or a CR not followed by LF.
    case invalidLineEnding
    /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.1: a smuggling attempt).
    case contentLengthWithTransferEncoding
    /// `Content-Length` values that differ (repeated fields or a list).
    case duplicateContentLength
    /// A `Content-Length` that is not a plain decimal number, or too large to represent.
    case invalidContentLength
    /// A `Transfer-Encoding` other than exactly `chunked`.
    case unsupportedTransferEncoding
    /// `Connection` names `Content-Length`, `Transfer-Encoding` or `Host`. A proxy would have to
    /// drop the named field (RFC 9110 §7.6.1) and so change the message's framing or target for
    /// the next hop while the bytes stay the same: refused instead (request smuggling).
    case connectionNamesFramingField
    /// An HTTP/1.1 request without `Host`, or any request with more than one `Host` field or a
    /// `Host` value that is a list (RFC 9112 §3.2: 400).
    case invalidHost
    /// A chunk size that is not hexadecimal, or too large to represent.
    case invalidChunkSize
    /// A chunk extension that is not `;name[=value]` with a token or quoted-string value.
    case invalidChunkExtension
    /// A chunk-size line longer than allowed.
    case chunkLineTooLong
    /// The CRLF after a chunk's data is missing.
    case missingChunkTerminator
    /// The connection ended in the middle of a message.
    case truncatedMessage

    /// The status the balancer answers a client's malformed request with.
    var responseStatus: HTTPResponseStatus {
        self == .headTooLarge ? .requestHeaderFieldsTooLarge : .badRequest
    }
}
