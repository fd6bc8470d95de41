import SteadfastTestSupport
import Crypto
import Foundation
import NIOCore
import SteadfastStorage

/// Deterministic test bytes, streams and temporary directories.
enum TestData {
    /// `count` pseudo-random bytes from `seed` (SplitMix64).
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var generator = Generator(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        generator.fill(&out[...])
        return out
    }

    /// A stream of `size` pseudo-random bytes produced on the fly (never all in memory), in
    /// chunks of `chunkSize`. `afterBytes` is called with the running total after each chunk.
    static func generatedStream(size: Int64, seed: UInt64, chunkSize: Int = 256 * 1024, afterBytes: (@Sendable (Int64) async throws -> Void)? = nil) -> StorageByteStream {
        StorageByteStream(makeNext: {
            var generator = Generator(seed: seed)
            var produced: Int64 = 0
            return {
                guard produced < size else { return nil }
                let count = Int(min(Int64(chunkSize), size - produced))
                var chunk = [UInt8](repeating: 0, count: count)
                generator.fill(&chunk[...])
                produced += Int64(count)
                try await afterBytes?(produced)
                return ByteBuffer(bytes: chunk)
            }
        })
    }

    /// SHA-256 (hex) of what ``generatedStream(size:seed:chunkSize:afterBytes:)`` yields.
    static func sha256OfGenerated(size: Int64, seed: UInt64) -> String {
        var generator = Generator(seed: seed)
        var hasher = SHA256()
        var left = size
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while left > 0 {
            let count = Int(min(Int64(chunk.count), left))
            generator.fill(&chunk[0..<count])
            hasher.update(data: chunk[0..<count])
            left -= Int64(count)
        }
        return hex(hasher.finalize())
    }

    static func sha256(_ bytes: some Sequence<UInt8>) -> String {
        hex(SHA256.hash(data: Array(bytes)))
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Reads a stream to the end and returns its bytes (small objects only).
    static func collect(_ stream: StorageByteStream) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in stream { out += chunk.readableBytesView }
        return out
    }

    /// Reads a stream to the end and returns its length and SHA-256, without keeping it.
    static func digest(_ stream: StorageByteStream) async throws -> (size: Int64, sha256: String) {
        var hasher = SHA256()
        var size: Int64 = 0
        for try await chunk in stream {
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            size += Int64(chunk.readableBytes)
        }
        return (size, hex(hasher.finalize()))
    }

    /// A fresh empty directory under the system's temporary directory.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-storage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    typealias Generator = SeededGenerator
}

/// Runs `body` with a temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = try TestData.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}
