import NIOCore

/// A stream of byte chunks, whatever produces them: the body type read from and written to
/// every storage backend.
///
/// It pulls: each `next()` asks the underlying source for one more chunk, so a slow consumer
/// slows the producer down and nothing piles up in memory.
public struct StorageByteStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let makeIterator: @Sendable () -> AsyncIterator

    /// Wraps any sendable sequence of `ByteBuffer`s (an HTTP body, a file reader, ...).
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == ByteBuffer {
        makeIterator = {
            let box = IteratorBox(base.makeAsyncIterator())
            return AsyncIterator(produce: { try await box.next() })
        }
    }

    /// Creates a stream from a function producing the next chunk (nil at the end), made anew
    /// for each iteration by `makeNext`.
    public init(makeNext: @escaping @Sendable () -> (() async throws -> ByteBuffer?)) {
        makeIterator = { AsyncIterator(produce: makeNext()) }
    }

    /// A stream of the given chunks (for small bodies and tests).
    public static func buffers(_ buffers: [ByteBuffer]) -> StorageByteStream {
        StorageByteStream(makeNext: {
            let box = IteratorBox(buffers.makeIterator())
            return { box.nextSync() }
        })
    }

    /// A stream of `bytes`, cut in chunks of `chunkSize` bytes.
    public static func bytes(_ bytes: [UInt8], chunkSize: Int = 64 * 1024) -> StorageByteStream {
        var chunks: [ByteBuffer] = []
        var index = 0
        while index < bytes.count {
            let end = Swift.min(index + chunkSize, bytes.count)
            chunks.append(ByteBuffer(bytes: bytes[index..<end]))
            index = end
        }
        return buffers(chunks)
    }

    public func makeAsyncIterator() -> AsyncIterator { makeIterator() }

    /// Reads the whole stream into one buffer (for small objects and tests only).
    public func collect(upTo maximum: Int) async throws -> ByteBuffer {
        var result = ByteBuffer()
        for try await var chunk in self {
            guard result.readableBytes + chunk.readableBytes <= maximum else {
                throw StorageError(.sizeMismatch, "the stream is longer than \(maximum) bytes")
            }
            result.writeBuffer(&chunk)
        }
        return result
    }

    /// The iterator: calls the producer's next-chunk function.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let produce: () async throws -> ByteBuffer?

        public mutating func next() async throws -> ByteBuffer? {
            try Task.checkCancellation()
            return try await produce()
        }
    }
}

/// Holds a mutable iterator for the closure-based ``StorageByteStream/AsyncIterator``.
///
/// Not `Sendable`: one box belongs to one iterator, which one task uses at a time.
private final class IteratorBox<Base> {
    var base: Base
    init(_ base: Base) { self.base = base }
}

extension IteratorBox where Base: AsyncIteratorProtocol {
    func next() async throws -> Base.Element? { try await base.next() }
}

extension IteratorBox where Base: IteratorProtocol {
    func nextSync() -> Base.Element? { base.next() }
}
