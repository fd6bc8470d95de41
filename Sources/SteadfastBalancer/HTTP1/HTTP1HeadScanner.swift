import NIOCore

/// Finds where a head (or a trailer section) ends — the first empty line — in bytes that arrive
/// in pieces, without rescanning what it has already seen (a client trickling a head byte by
/// byte costs linear, not quadratic, time). It only locates lines; ``HTTP1FieldParser`` and the
/// start-line parsers validate them once the whole section is there.
struct HTTP1HeadScanner {
    /// Largest section accepted, its final empty line included.
    let maxBytes: Int
    /// Bytes from the buffer's reader index already searched.
    private var scanned = 0
    /// Offset of the line being scanned.
    private var lineStart = 0

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Forgets progress, for the next section.
    mutating func reset() {
        scanned = 0
        lineStart = 0
    }

    /// Skips empty lines before a request line (RFC 9112 §2.2: a server should ignore at least
    /// one CRLF before it). Returns false while a lone CR leaves the question open.
    static func skipLeadingEmptyLines(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Bool {
        while let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
            if first == HTTP1Syntax.lf {
                buffer.moveReaderIndex(forwardBy: 1)
            } else if first == HTTP1Syntax.cr {
                guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return false }
                guard second == HTTP1Syntax.lf else { throw .invalidLineEnding }
                buffer.moveReaderIndex(forwardBy: 2)
            } else {
                return true
            }
        }
        return true
    }

    /// The length of the section at the start of `buffer`'s readable bytes, through the LF of its
    /// first empty line, or `nil` while that line has not arrived. Throws ``HTTP1ParseError/headTooLarge``
    /// once the section is, or must become, larger than ``maxBytes``.
    mutating func sectionLength(in buffer: ByteBuffer) throws(HTTP1ParseError) -> Int? {
        let available = buffer.readableBytes
        let searchEnd = min(available, maxBytes)
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = scanned
            while index < searchEnd {
                if bytes[index] == HTTP1Syntax.lf {
                    let length = index &- lineStart
                    if length == 0 || (length == 1 && bytes[lineStart] == HTTP1Syntax.cr) {
                        return index &+ 1
                    }
                    lineStart = index &+ 1
                }
                index &+= 1
            }
            scanned = index
            return nil
        }
        if let found {
            reset()
            return found
        }
        if available >= maxBytes { throw .headTooLarge }
        return nil
    }
}
