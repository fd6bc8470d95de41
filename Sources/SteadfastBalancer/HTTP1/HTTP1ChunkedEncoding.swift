import NIOCore

/// Writes chunked transfer coding (RFC 9112 §7.1) around body bytes that are forwarded as
/// slices: the proxy re-frames each slice it passes on as one chunk, so a body never has to
/// be copied or collected.
enum HTTP1ChunkedEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `size-in-hex CRLF`, the line in front of a chunk of `size` bytes (`size` > 0).
    static func chunkHeader(size: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 18)
        writeChunkHeader(size: size, into: &buffer)
        return buffer
    }

    /// Appends `size-in-hex CRLF` to `buffer`.
    static func writeChunkHeader(size: Int, into buffer: inout ByteBuffer) {
        precondition(size > 0)
        var shift = (Int.bitWidth - size.leadingZeroBitCount - 1) / 4 * 4
        while shift >= 0 {
            buffer.writeInteger(hexDigits[(size >> shift) & 0xF])
            shift -= 4
        }
        buffer.writeInteger(UInt16(0x0D0A))
    }

    /// The CRLF after a chunk's data.
    static func chunkEnd(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 2)
        buffer.writeInteger(UInt16(0x0D0A))
        return buffer
    }

    /// The last chunk, the trailer field lines (each with its CRLF) if any, and the final CRLF.
    static func lastChunk(trailers: ByteBuffer?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 5 + (trailers?.readableBytes ?? 0))
        buffer.writeStaticString("0\r\n")
        if var trailers { buffer.writeBuffer(&trailers) }
        buffer.writeStaticString("\r\n")
        return buffer
    }
}
