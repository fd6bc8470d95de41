import Crypto
import NIOCore

/// Lowercase hex of SHA-256 digests, the form the catalogue and `StoredObject` use.
enum SHA256Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func string(_ digest: SHA256.Digest) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func of(_ buffer: ByteBuffer) -> String {
        var hasher = SHA256()
        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return string(hasher.finalize())
    }
}

extension SHA256 {
    /// Adds a buffer's readable bytes to the hash.
    mutating func update(buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { self.update(bufferPointer: $0) }
    }
}
