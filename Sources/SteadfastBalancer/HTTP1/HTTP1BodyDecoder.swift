import NIOCore

/// Takes one message body off the wire: a fixed length, chunked (RFC 9112 §7.1) or until the
/// connection closes. Yields the body's data as slices of the input (never copied) and, at the
/// end, the trailer section. Chunk sizes must be hexadecimal digits only (no sign, no
/// whitespace), chunk extensions must be well-formed, and every chunk must end in CRLF.
struct HTTP1BodyDecoder {
    /// How the body is delimited.
    enum Framing: Equatable {
        case length(Int)
        case chunked
        /// Until the connection closes (responses only).
        case untilClose
    }

    /// What the decoder found.
    enum Event: Equatable {
        /// Body bytes (a slice of the input).
        case data(ByteBuffer)
        /// The body is complete; chunked bodies may end with trailer field lines (each with
        /// its CRLF, without the final empty line).
        case end(trailers: ByteBuffer?)
    }

    /// Longest chunk-size line accepted (size, extensions and CRLF).
    static let maxChunkLineBytes = 4096

    private enum State {
        /// A fixed-length body with `remaining` bytes still to come.
        case length(remaining: Int)
        /// A body that ends when the connection does.
        case untilClose
        /// Expecting a chunk-size line.
        case chunkSize
        /// Inside a chunk's data.
        case chunkData(remaining: Int)
        /// Expecting the CRLF that ends a chunk's data.
        case chunkDataEnd
        /// After the last chunk: expecting the trailer section and its empty line.
        case trailers
        /// The end was reported.
        case done
    }

    private var state: State
    private var trailerScanner: HTTP1HeadScanner

    /// - Parameter maxTrailerBytes: largest trailer section accepted.
    init(framing: Framing, maxTrailerBytes: Int) {
        switch framing {
        case .length(let length): state = .length(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
        trailerScanner = HTTP1HeadScanner(maxBytes: maxTrailerBytes)
    }

    /// Whether the end was reported.
    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether the body ends with the connection.
    var isUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The next piece of the body from `buffer` (consuming what it uses), or `nil` when more
    /// bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Event? {
        while true {
            switch state {
            case .length(let remaining):
                if remaining == 0 {
                    state = .done
                    return .end(trailers: nil)
                }
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = .length(remaining: remaining &- count)
                return .data(buffer.readSlice(length: count)!)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .data(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try Self.readChunkSizeLine(&buffer) else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining &- count)
                return .data(buffer.readSlice(length: count)!)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else {
                    if buffer.readableBytes == 1, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) != HTTP1Syntax.cr {
                        throw .missingChunkTerminator
                    }
                    return nil
                }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .missingChunkTerminator }
                state = .chunkSize
            case .trailers:
                guard let length = try trailerScanner.sectionLength(in: buffer) else { return nil }
                let section = buffer.readSlice(length: length)!
                state = .done
                return .end(trailers: try Self.validatedTrailers(section))
            case .done:
                return nil
            }
        }
    }

    /// The connection ended: a body delimited by the close ends now; any other is truncated.
    mutating func endOfInput() throws(HTTP1ParseError) -> Event? {
        switch state {
        case .untilClose:
            state = .done
            return .end(trailers: nil)
        case .done:
            return nil
        default:
            throw .truncatedMessage
        }
    }

    /// Reads `chunk-size [chunk-ext] CRLF`; `nil` while the line is incomplete.
    private static func readChunkSizeLine(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Int? {
        let result: Result<(size: Int, length: Int)?, HTTP1ParseError> = buffer.withUnsafeReadableBytes { bytes in
            let limit = min(bytes.count, maxChunkLineBytes)
            var lf = 0
            while lf < limit && bytes[lf] != HTTP1Syntax.lf { lf &+= 1 }
            guard lf < limit else {
                return bytes.count >= maxChunkLineBytes ? .failure(.chunkLineTooLong) : .success(nil)
            }
            guard lf > 0, bytes[lf &- 1] == HTTP1Syntax.cr else { return .failure(.invalidLineEnding) }
            let end = lf &- 1
            var index = 0
            var size = 0
            while index < end, let digit = HTTP1Syntax.hexValue(bytes[index]) {
                guard index < 15 else { return .failure(.invalidChunkSize) }
                size = size &<< 4 | digit
                index &+= 1
            }
            guard index > 0 else { return .failure(.invalidChunkSize) }
            if index < end {
                guard validChunkExtensions(bytes, from: index, to: end) else {
                    // Anything but `;` or whitespace right after the digits is a bad size ("5x", "-3").
                    let next = bytes[index]
                    return .failure(next == HTTP1Syntax.semicolon || HTTP1Syntax.isWhitespace(next) ? .invalidChunkExtension : .invalidChunkSize)
                }
            }
            return .success((size, lf &+ 1))
        }
        switch result {
        case .success(let line?):
            buffer.moveReaderIndex(forwardBy: line.length)
            return line.size
        case .success(nil):
            return nil
        case .failure(let error):
            throw error
        }
    }

    /// `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )` with a token or quoted-string value.
    private static func validChunkExtensions(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Bool {
        var index = start
        func skipWhitespace() {
            while index < end && HTTP1Syntax.isWhitespace(bytes[index]) { index &+= 1 }
        }
        func skipToken() -> Bool {
            let tokenStart = index
            while index < end && HTTP1Syntax.isTokenChar(bytes[index]) { index &+= 1 }
            return index > tokenStart
        }
        while index < end {
            skipWhitespace()
            guard index < end, bytes[index] == HTTP1Syntax.semicolon else { return false }
            index &+= 1
            skipWhitespace()
            guard skipToken() else { return false }
            skipWhitespace()
            guard index < end, bytes[index] == HTTP1Syntax.equals else { continue }
            index &+= 1
            skipWhitespace()
            guard index < end else { return false }
            if bytes[index] == HTTP1Syntax.quote {
                index &+= 1
                var closed = false
                while index < end {
                    let byte = bytes[index]
                    if byte == HTTP1Syntax.quote {
                        closed = true
                        index &+= 1
                        break
                    }
                    if byte == HTTP1Syntax.backslash {
                        index &+= 1
                        guard index < end, bytes[index] == HTTP1Syntax.tab || (bytes[index] >= 0x20 && bytes[index] != 0x7F) else { return false }
                    } else if !HTTP1Syntax.isQuotedTextChar(byte) {
                        return false
                    }
                    index &+= 1
                }
                guard closed else { return false }
            } else {
                guard skipToken() else { return false }
            }
        }
        return true
    }

    /// The trailer field lines of a section (validated), or `nil` when it is only the empty line.
    private static func validatedTrailers(_ section: ByteBuffer) throws(HTTP1ParseError) -> ByteBuffer? {
        guard section.readableBytes > 2 else {
            guard section.readableBytes == 2, section.getInteger(at: section.readerIndex, as: UInt16.self) == 0x0D0A else {
                throw .invalidLineEnding
            }
            return nil
        }
        let result: Result<Void, HTTP1ParseError> = section.withUnsafeReadableBytes { bytes in
            let end = bytes.count &- 2
            guard bytes[end] == HTTP1Syntax.cr else { return .failure(.invalidLineEnding) }
            var fields: [HTTP1Field] = []
            do throws(HTTP1ParseError) {
                try HTTP1FieldParser.parseLines(bytes, from: 0, to: end, into: &fields)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        return section.getSlice(at: section.readerIndex, length: section.readableBytes - 2)
    }
}
