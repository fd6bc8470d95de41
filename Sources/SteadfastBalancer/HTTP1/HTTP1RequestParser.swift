import NIOCore

/// Splits the bytes a client sends into requests: a head (validated and summed up by
/// ``HTTP1RequestHead``), then body data as slices of the input and an end. A pure state
/// machine: bytes in, events out, no I/O; the caller keeps the unconsumed bytes and calls
/// ``next(_:)`` again when more arrive. Framing is strict (see ``HTTP1FieldParser`` and
/// ``HTTP1BodyDecoder``): after an error the connection's remaining bytes mean nothing.
struct HTTP1RequestParser {
    /// What the parser found.
    enum Event {
        case head(HTTP1RequestHead)
        case body(ByteBuffer)
        /// The request is complete; trailer field lines of a chunked body, if any.
        case end(trailers: ByteBuffer?)
    }

    private enum State {
        /// Waiting for (the rest of) a request head.
        case head
        /// Inside a request's body.
        case body(HTTP1BodyDecoder)
        /// An error was reported; nothing more is parsed.
        case failed
    }

    private var state: State = .head
    private var scanner: HTTP1HeadScanner
    private let maxHeadBytes: Int
    /// Field storage reused from one head to the next.
    private var fields: [HTTP1Field] = []

    /// - Parameter maxHeadBytes: largest head (request line, fields, final empty line) accepted.
    init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
        self.scanner = HTTP1HeadScanner(maxBytes: maxHeadBytes)
        fields.reserveCapacity(16)
    }

    /// Whether the parser is between requests (no byte of a new head consumed).
    var isAtMessageBoundary: Bool {
        if case .head = state { return true }
        return false
    }

    /// The next event from `buffer`, consuming the bytes it covers; `nil` when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Event? {
        do {
            switch state {
            case .head:
                guard try HTTP1HeadScanner.skipLeadingEmptyLines(&buffer),
                    let length = try scanner.sectionLength(in: buffer)
                else { return nil }
                let head = try HTTP1RequestHead(parsing: buffer.readSlice(length: length)!, fields: &fields)
                state = .body(HTTP1BodyDecoder(framing: head.framing, maxTrailerBytes: maxHeadBytes))
                return .head(head)
            case .body(var decoder):
                let event = try decoder.next(&buffer)
                switch event {
                case .data(let data):
                    state = .body(decoder)
                    return .body(data)
                case .end(let trailers):
                    state = .head
                    return .end(trailers: trailers)
                case nil:
                    state = .body(decoder)
                    return nil
                }
            case .failed:
                return nil
            }
        } catch {
            state = .failed
            throw error
        }
    }
}
