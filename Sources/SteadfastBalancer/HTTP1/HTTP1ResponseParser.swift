import NIOCore

/// Splits the bytes a backend sends into responses: informational (1xx) heads, then a final
/// head, body data as slices of the input and an end. The body's framing follows RFC 9112 §6.3:
/// none for a response to HEAD and for 1xx/204/304, chunked, `Content-Length`, or else until the
/// connection closes. A pure state machine like ``HTTP1RequestParser``; the owner tells it when
/// a request was sent (``expectResponse(toHEAD:)``) and when the connection ended
/// (``endOfInput()``).
struct HTTP1ResponseParser {
    /// What the parser found.
    enum Event {
        /// A response head; a 1xx one is followed by another head.
        case head(HTTP1ResponseHead)
        case body(ByteBuffer)
        /// The response is complete; trailer field lines of a chunked body, if any.
        case end(trailers: ByteBuffer?)
    }

    private enum State {
        /// No request is waiting for a response.
        case idle
        /// Waiting for a response head.
        case head(toHEAD: Bool)
        /// Inside the final response's body.
        case body(HTTP1BodyDecoder)
        /// An error was reported, or a 101 ended HTTP on this connection.
        case failed
    }

    /// Largest response head accepted.
    static let maxHeadBytes = 80 * 1024

    private var state: State = .idle
    private var scanner = HTTP1HeadScanner(maxBytes: maxHeadBytes)
    private var fields: [HTTP1Field] = []

    init() {
        fields.reserveCapacity(16)
    }

    /// Whether the last response is complete and no other is expected.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// A request was sent; its response is next. `toHEAD`: the response has no body.
    mutating func expectResponse(toHEAD: Bool) {
        state = .head(toHEAD: toHEAD)
        scanner.reset()
    }

    /// The next event from `buffer`, consuming the bytes it covers; `nil` when more bytes are
    /// needed (or when no response is expected: bytes then stay in `buffer`).
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Event? {
        do {
            switch state {
            case .head(let toHEAD):
                guard let length = try scanner.sectionLength(in: buffer) else { return nil }
                let head = try HTTP1ResponseHead(parsing: buffer.readSlice(length: length)!, fields: &fields)
                if head.status < 200 {
                    // 101 switches protocols: nothing after it is HTTP/1.1.
                    if head.status == 101 { state = .failed }
                    return .head(head)
                }
                let framing: HTTP1BodyDecoder.Framing
                if toHEAD || head.statusForbidsBody {
                    framing = .length(0)
                } else if head.summary.chunked {
                    framing = .chunked
                } else if let length = head.summary.contentLength {
                    framing = .length(length)
                } else {
                    framing = .untilClose
                }
                state = .body(HTTP1BodyDecoder(framing: framing, maxTrailerBytes: Self.maxHeadBytes))
                return .head(head)
            case .body(var decoder):
                let event = try decoder.next(&buffer)
                return finish(event, decoder)
            case .idle, .failed:
                return nil
            }
        } catch {
            state = .failed
            throw error
        }
    }

    /// The connection ended: a body delimited by the close ends now; a response cut short
    /// anywhere else is an error. `nil` when no response was in progress.
    mutating func endOfInput() throws(HTTP1ParseError) -> Event? {
        switch state {
        case .idle, .failed:
            return nil
        case .head:
            state = .failed
            throw .truncatedMessage
        case .body(var decoder):
            do {
                return finish(try decoder.endOfInput(), decoder)
            } catch {
                state = .failed
                throw error
            }
        }
    }

    /// Whether the current body is delimited by the connection's close.
    var bodyEndsWithConnection: Bool {
        if case .body(let decoder) = state { return decoder.isUntilClose }
        return false
    }

    private mutating func finish(_ event: HTTP1BodyDecoder.Event?, _ decoder: HTTP1BodyDecoder) -> Event? {
        switch event {
        case .data(let data):
            state = .body(decoder)
            return .body(data)
        case .end(let trailers):
            state = .idle
            return .end(trailers: trailers)
        case nil:
            state = .body(decoder)
            return nil
        }
    }
}
