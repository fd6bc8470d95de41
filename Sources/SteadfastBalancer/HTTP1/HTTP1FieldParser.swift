import NIOCore
import NIOHTTP1

/// Parses and validates the field lines of a head or a trailer section, and sums up the few
/// fields that decide framing and connection handling. Strict on purpose (request smuggling is
/// the risk): every line must end in CRLF, names must be tokens directly followed by a colon,
/// values must be free of control characters, obsolete line folding is refused,
/// `Content-Length` / `Transfer-Encoding` must be unambiguous, and `Connection` must not name
/// `Content-Length`, `Transfer-Encoding` or `Host` (the framing never depends on `Connection`).
enum HTTP1FieldParser {
    /// What the fields say about framing and the connection.
    struct Summary: Equatable {
        /// The value of `Content-Length`, if present. Repeated fields or a list of identical values
        /// are accepted as one value (RFC 9110 §8.6); differing values are an error.
        var contentLength: Int?
        /// `Content-Length` came as more than one field or as a list: forward one normalised field.
        var contentLengthRepeated = false
        /// `Transfer-Encoding: chunked` is present (the only transfer coding accepted).
        var chunked = false
        /// `Connection` carries `close`.
        var connectionClose = false
        /// `Connection` carries `keep-alive`.
        var connectionKeepAlive = false
        /// `Connection` names other fields, which are hop-by-hop for this message.
        var connectionNamesFields = false

        /// Whether the sender keeps the connection open after this message (RFC 9112 §9.3):
        /// HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`.
        func isKeepAlive(version: HTTPVersion) -> Bool {
            version.minor >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose
        }
    }

    /// Parses a complete head (`bytes` ends with its empty line): the start line with
    /// `startLine` (which returns what it read and where the field lines start), then the field
    /// section into `fields` (emptied first; reused storage).
    static func parseHead<Line>(
        _ bytes: ByteBuffer, into fields: inout [HTTP1Field],
        startLine: (UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (line: Line, fieldsStart: Int)
    ) throws(HTTP1ParseError) -> (line: Line, fieldsStart: Int, summary: Summary) {
        fields.removeAll(keepingCapacity: true)
        // withUnsafeReadableBytes rethrows untyped errors: carry the typed one out in a Result.
        let parsed: Result<(line: Line, fieldsStart: Int, summary: Summary), HTTP1ParseError> = bytes.withUnsafeReadableBytes { bytes in
            do throws(HTTP1ParseError) {
                let start = try startLine(bytes)
                return .success((start.line, start.fieldsStart, try parseSection(bytes, from: start.fieldsStart, into: &fields)))
            } catch {
                return .failure(error)
            }
        }
        return try parsed.get()
    }

    /// Parses the field section of a complete head — from `start` (just after the start line) to
    /// the head's final empty line — into `fields` (appended) and summarises it.
    static func parseSection(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into fields: inout [HTTP1Field]
    ) throws(HTTP1ParseError) -> Summary {
        let end = bytes.count &- 2
        guard end >= start, bytes[end] == HTTP1Syntax.cr else { throw HTTP1ParseError.invalidLineEnding }
        try parseLines(bytes, from: start, to: end, into: &fields)
        return try summarize(bytes, fields)
    }

    /// Parses the field lines in `bytes[start..<end]` (complete lines, each ending in CRLF) into
    /// `fields` (appended).
    static func parseLines(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        into fields: inout [HTTP1Field]
    ) throws(HTTP1ParseError) {
        var lineStart = start
        while lineStart < end {
            var lf = lineStart
            while lf < end && bytes[lf] != HTTP1Syntax.lf { lf &+= 1 }
            guard lf < end, lf > lineStart, bytes[lf &- 1] == HTTP1Syntax.cr else { throw .invalidLineEnding }
            let contentEnd = lf &- 1
            fields.append(try parseLine(bytes, lineStart, contentEnd, lineEnd: lf &+ 1))
            lineStart = lf &+ 1
        }
    }

    @inline(__always)
    private static func parseLine(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ contentEnd: Int, lineEnd: Int) throws(HTTP1ParseError) -> HTTP1Field {
        guard start < contentEnd else { throw .invalidFieldName }
        if HTTP1Syntax.isWhitespace(bytes[start]) { throw .obsoleteLineFolding }
        var colon = start
        while true {
            guard colon < contentEnd else { throw .invalidFieldName }
            let byte = bytes[colon]
            if byte == HTTP1Syntax.colon { break }
            guard HTTP1Syntax.isTokenChar(byte) else { throw .invalidFieldName }
            colon &+= 1
        }
        guard colon > start else { throw .invalidFieldName }
        var valueStart = colon &+ 1
        while valueStart < contentEnd && HTTP1Syntax.isWhitespace(bytes[valueStart]) { valueStart &+= 1 }
        var valueEnd = contentEnd
        while valueEnd > valueStart && HTTP1Syntax.isWhitespace(bytes[valueEnd &- 1]) { valueEnd &-= 1 }
        var index = valueStart
        while index < valueEnd {
            guard HTTP1Syntax.isFieldValueChar(bytes[index]) else { throw .invalidFieldValue }
            index &+= 1
        }
        return HTTP1Field(
            lineStart: Int32(truncatingIfNeeded: start),
            nameEnd: Int32(truncatingIfNeeded: colon),
            valueStart: Int32(truncatingIfNeeded: valueStart),
            valueEnd: Int32(truncatingIfNeeded: valueEnd),
            lineEnd: Int32(truncatingIfNeeded: lineEnd),
            kind: HTTP1Field.Kind.classify(bytes, start..<colon)
        )
    }

    /// Sums up framing and `Connection` from parsed fields; refuses ambiguous framing.
    static func summarize(_ bytes: UnsafeRawBufferPointer, _ fields: [HTTP1Field]) throws(HTTP1ParseError) -> Summary {
        var summary = Summary()
        var transferEncodings = 0
        for field in fields {
            switch field.kind {
            case .contentLength:
                var elements = 0
                var failure: HTTP1ParseError?
                forEachToken(bytes, field.value, allowEmpty: true) { element in
                    guard failure == nil else { return }
                    elements &+= 1
                    do throws(HTTP1ParseError) {
                        let value = try parseContentLength(bytes, element)
                        if let previous = summary.contentLength, previous != value {
                            failure = .duplicateContentLength
                        } else {
                            if summary.contentLength != nil { summary.contentLengthRepeated = true }
                            summary.contentLength = value
                        }
                    } catch {
                        failure = error
                    }
                }
                if elements == 0 { throw .invalidContentLength }
                if let failure { throw failure }
            case .transferEncoding:
                transferEncodings &+= 1
                guard transferEncodings == 1, HTTP1Syntax.equalsIgnoringCase(bytes, field.value, "chunked") else {
                    throw .unsupportedTransferEncoding
                }
                summary.chunked = true
            case .connection:
                var namesFraming = false
                forEachToken(bytes, field.value) { token in
                    if HTTP1Syntax.equalsIgnoringCase(bytes, token, "close") {
                        summary.connectionClose = true
                    } else if HTTP1Syntax.equalsIgnoringCase(bytes, token, "keep-alive") {
                        summary.connectionKeepAlive = true
                    } else {
                        summary.connectionNamesFields = true
                        if HTTP1Syntax.equalsIgnoringCase(bytes, token, "content-length")
                            || HTTP1Syntax.equalsIgnoringCase(bytes, token, "transfer-encoding")
                            || HTTP1Syntax.equalsIgnoringCase(bytes, token, "host")
                        {
                            namesFraming = true
                        }
                    }
                }
                // Dropping a named framing field would make the next hop frame the same bytes
                // differently (request smuggling): refused in both directions.
                if namesFraming { throw .connectionNamesFramingField }
            default:
                break
            }
        }
        if summary.chunked && summary.contentLength != nil { throw .contentLengthWithTransferEncoding }
        return summary
    }

    /// A `Content-Length` value: one or more digits and nothing else (no sign, no list).
    static func parseContentLength(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTP1ParseError) -> Int {
        guard !range.isEmpty, range.count <= 18 else { throw .invalidContentLength }
        var value = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw .invalidContentLength }
            value = value &* 10 &+ Int(byte &- UInt8(ascii: "0"))
        }
        return value
    }

    /// Calls `body` with each non-empty element of a comma-separated list value, trimmed
    /// (with `allowEmpty`, empty elements too, so that a caller can refuse them).
    @inline(__always)
    static func forEachToken(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, allowEmpty: Bool = false, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            while end < range.upperBound && bytes[end] != HTTP1Syntax.comma { end &+= 1 }
            var tokenStart = start
            var tokenEnd = end
            while tokenStart < tokenEnd && HTTP1Syntax.isWhitespace(bytes[tokenStart]) { tokenStart &+= 1 }
            while tokenEnd > tokenStart && HTTP1Syntax.isWhitespace(bytes[tokenEnd &- 1]) { tokenEnd &-= 1 }
            if allowEmpty || tokenStart < tokenEnd { body(tokenStart..<tokenEnd) }
            start = end &+ 1
        }
    }
}
