import NIOCore
import NIOHTTP1

/// Rewrites heads as they cross the proxy, on their bytes: field lines the proxy does not act on
/// are copied as they arrived (runs of lines in one copy); hop-by-hop fields (RFC 9110 §7.6.1) and
/// the fields `Connection` names are dropped; `X-Forwarded-For`, `X-Forwarded-Proto`,
/// `X-Forwarded-Host` and `X-Request-ID` are set. Pure functions, tested without sockets.
enum ProxyHeaders {
    // MARK: Requests

    /// Appends to `out` the head sent to a backend for a client's `head` (always HTTP/1.1).
    static func writeForwardRequest(
        _ head: HTTP1RequestHead,
        clientIP: String?,
        scheme: String,
        requestID: String,
        into out: inout ByteBuffer
    ) {
        let summary = head.summary
        head.withBytes { bytes in
            var previousForwardedFor: String?
            var host: Range<Int>?
            // Request line: as received for HTTP/1.1, else with the version raised to 1.1.
            if head.version == .http1_1 {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<head.fieldsStart]))
            } else {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<head.target.upperBound]))
                out.writeStaticString(" HTTP/1.1\r\n")
            }
            let hasHost = head.fields.contains { $0.kind == .host && !namedByConnection($0, bytes, head.fields, summary) }
            copyFields(head.fields, bytes, into: &out) { field in
                if namedByConnection(field, bytes, head.fields, summary) { return false }
                switch field.kind {
                case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade:
                    return false
                case .xForwardedFor:
                    let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[field.value]), as: UTF8.self)
                    previousForwardedFor = previousForwardedFor.map { "\($0), \(value)" } ?? value
                    return false
                case .xForwardedProto, .xRequestID:
                    return false
                case .xForwardedHost:
                    return !hasHost
                case .contentLength:
                    return !summary.contentLengthRepeated
                case .host:
                    if host == nil { host = field.value }
                    return true
                case .cookie, .other:
                    return true
                }
            }
            if summary.chunked {
                out.writeStaticString("transfer-encoding: chunked\r\n")
            } else if let length = summary.contentLength {
                if summary.contentLengthRepeated { writeField("content-length", String(length), into: &out) }
            } else {
                // Matched by case: `==` on HTTPMethod compares string raw values.
                switch head.method {
                case .POST, .PUT, .PATCH: out.writeStaticString("content-length: 0\r\n")
                default: break
                }
            }
            // The fields the proxy adds and the final empty line, in one write: one capacity
            // check instead of four ByteBuffer writes per line (they showed in profiles).
            let forwardedFor = clientIP.map { ip in previousForwardedFor.map { "\($0), \(ip)" } ?? ip } ?? previousForwardedFor
            let hostValue = host.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
            var length = 2 + LineWriter.length("x-forwarded-proto", scheme.utf8.count) + LineWriter.length("x-request-id", requestID.utf8.count)
            if let forwardedFor { length += LineWriter.length("x-forwarded-for", forwardedFor.utf8.count) }
            if let hostValue { length += LineWriter.length("x-forwarded-host", hostValue.count) }
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                var writer = LineWriter(target: target)
                if let forwardedFor { writer.line("x-forwarded-for", forwardedFor) }
                writer.line("x-forwarded-proto", scheme)
                if let hostValue { writer.line("x-forwarded-host", hostValue) }
                writer.line("x-request-id", requestID)
                writer.append("\r\n")
                return writer.count
            }
        }
    }

    /// A client-supplied request id is kept when it is short and plain; otherwise a new one is used.
    static func requestID(from head: HTTP1RequestHead, generate: () -> String) -> String {
        guard let field = head.fields.first(where: { $0.kind == .xRequestID }) else { return generate() }
        let plain = head.withBytes { bytes in
            !field.value.isEmpty && field.value.count <= 128 && field.value.allSatisfy { bytes[$0] > 0x20 && bytes[$0] < 0x7F }
        }
        return plain ? head.string(field.value) : generate()
    }

    /// The value of cookie `name` in the request's `Cookie` fields, if present.
    static func cookie(named name: String, in head: HTTP1RequestHead) -> String? {
        for field in head.fields where field.kind == .cookie {
            let header = head.string(field.value)
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }

    // MARK: Responses

    /// Appends to `out` the head sent to the client for a backend's final `head`. `chunked`: the
    /// proxy sends the body to the client chunked (it re-frames each slice as a chunk).
    static func writeForwardResponse(
        _ head: HTTP1ResponseHead,
        clientVersion: HTTPVersion,
        keepAlive: Bool,
        chunked: Bool,
        setCookie: String?,
        into out: inout ByteBuffer
    ) {
        head.bytes.withUnsafeReadableBytes { bytes in
            writeStatusLine(head, bytes, clientVersion: clientVersion, into: &out)
            copyFields(head.fields, bytes, into: &out) { field in
                !field.kind.isHopByHop && !namedByConnection(field, bytes, head.fields, head.summary)
            }
        }
        if chunked { out.writeStaticString("transfer-encoding: chunked\r\n") }
        if !keepAlive {
            out.writeStaticString("connection: close\r\n")
        } else if clientVersion == .http1_0 {
            out.writeStaticString("connection: keep-alive\r\n")
        }
        if let setCookie { writeField("set-cookie", setCookie, into: &out) }
        out.writeStaticString("\r\n")
    }

    /// Appends to `out` an informational (1xx) head for the client, its fields as received.
    static func writeInformational(_ head: HTTP1ResponseHead, clientVersion: HTTPVersion, into out: inout ByteBuffer) {
        head.bytes.withUnsafeReadableBytes { bytes in
            writeStatusLine(head, bytes, clientVersion: clientVersion, into: &out)
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[head.fieldsStart...]))
        }
    }

    /// A complete `text/plain` answer of the proxy itself, such as `503 Service Unavailable`.
    static func errorResponse(_ status: HTTPResponseStatus, version: HTTPVersion, close: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = "\(status.code) \(status.reasonPhrase)\n"
        var out = allocator.buffer(capacity: 160)
        out.writeString(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeString("\(status.code) \(status.reasonPhrase)\r\n")
        out.writeStaticString("content-type: text/plain; charset=utf-8\r\n")
        writeField("content-length", String(body.utf8.count), into: &out)
        if close { out.writeStaticString("connection: close\r\n") }
        out.writeStaticString("\r\n")
        out.writeString(body)
        return out
    }

    // MARK: Helpers

    private static func writeStatusLine(
        _ head: HTTP1ResponseHead,
        _ bytes: UnsafeRawBufferPointer,
        clientVersion: HTTPVersion,
        into out: inout ByteBuffer
    ) {
        out.writeStaticString(clientVersion == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[head.statusText]))
        out.writeStaticString("\r\n")
    }

    private static func writeField(_ name: StaticString, _ value: String, into out: inout ByteBuffer) {
        out.writeStaticString(name)
        out.writeStaticString(": ")
        out.writeString(value)
        out.writeStaticString("\r\n")
    }

    /// Writes `name: value` CRLF lines into memory reserved for them beforehand (``length(_:_:)``).
    private struct LineWriter {
        let target: UnsafeMutableRawBufferPointer
        private(set) var count = 0

        init(target: UnsafeMutableRawBufferPointer) {
            self.target = target
        }

        /// Bytes a line takes: the name, ": ", the value and CRLF.
        static func length(_ name: StaticString, _ valueCount: Int) -> Int {
            name.utf8CodeUnitCount + 4 + valueCount
        }

        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            precondition(count + bytes.count <= target.count)
            (target.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            count += bytes.count
        }

        mutating func append(_ string: StaticString) {
            append(UnsafeRawBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
        }

        mutating func append(_ string: String) {
            let copied: Void? = string.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
            if copied == nil {
                for byte in string.utf8 {
                    precondition(count < target.count)
                    target[count] = byte
                    count += 1
                }
            }
        }

        mutating func line(_ name: StaticString, _ value: String) {
            append(name)
            append(": ")
            append(value)
            append("\r\n")
        }

        mutating func line(_ name: StaticString, _ value: UnsafeRawBufferPointer) {
            append(name)
            append(": ")
            append(value)
            append("\r\n")
        }
    }

    /// Copies the lines of the fields `keep` accepts, each run of consecutive kept lines at once.
    @inline(__always)
    private static func copyFields(
        _ fields: [HTTP1Field],
        _ bytes: UnsafeRawBufferPointer,
        into out: inout ByteBuffer,
        keep: (HTTP1Field) -> Bool
    ) {
        var runStart = -1
        var runEnd = -1
        for field in fields {
            if keep(field) {
                if runStart < 0 { runStart = Int(field.lineStart) }
                runEnd = Int(field.lineEnd)
            } else if runStart >= 0 {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd]))
                runStart = -1
            }
        }
        if runStart >= 0 { out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd])) }
    }

    /// Whether a `Connection` field of the message names `field` (which makes it hop-by-hop).
    /// Never true for `Content-Length`, `Transfer-Encoding` or `Host`: the parser refuses a
    /// message whose `Connection` names them, and were one to get here anyway, the framing
    /// fields would still be kept, so the next hop frames exactly the bytes that are sent.
    private static func namedByConnection(
        _ field: HTTP1Field,
        _ bytes: UnsafeRawBufferPointer,
        _ fields: [HTTP1Field],
        _ summary: HTTP1FieldParser.Summary
    ) -> Bool {
        guard summary.connectionNamesFields else { return false }
        switch field.kind {
        case .connection, .contentLength, .transferEncoding, .host: return false
        default: break
        }
        for connection in fields where connection.kind == .connection {
            var named = false
            HTTP1FieldParser.forEachToken(bytes, connection.value) { token in
                if !named && HTTP1Syntax.tokensEqualIgnoringCase(bytes, token, bytes, field.name) { named = true }
            }
            if named { return true }
        }
        return false
    }
}
