/// A byte range to read: `length` bytes from `offset`, or to the end when `length` is nil.
///
/// Like HTTP's `Range`, a range running past the end is cut at the end; a range starting at or
/// beyond the end (of a non-empty object) is ``StorageError/Kind/invalidRange``.
public struct ByteRange: Sendable, Hashable, CustomStringConvertible {
    /// First byte, from 0.
    public var offset: Int64
    /// Number of bytes, or nil for "to the end".
    public var length: Int64?

    /// Creates a range; throws when `offset` is negative or `length` is not positive.
    public init(offset: Int64, length: Int64? = nil) throws {
        guard offset >= 0 else { throw StorageError(.invalidRange, "a byte range cannot start at \(offset)") }
        if let length, length <= 0 {
            throw StorageError(.invalidRange, "a byte range must have a positive length, not \(length)")
        }
        self.offset = offset
        // A range reaching past the largest offset there can be is a range "to the end"; kept
        // that way, `offset + length` never overflows anywhere the range is used.
        self.length = length.flatMap { offset.addingReportingOverflow($0).overflow ? nil : $0 }
    }

    /// The range as an HTTP `Range` header value (`bytes=10-19`, `bytes=10-`).
    public var httpHeaderValue: String {
        if let length { return "bytes=\(offset)-\(offset + length - 1)" }
        return "bytes=\(offset)-"
    }

    public var description: String { httpHeaderValue }

    /// The (offset, count) actually readable from an object of `size` bytes.
    func resolved(againstSize size: Int64, key: String) throws -> (offset: Int64, count: Int64) {
        guard offset < size else {
            throw StorageError(.invalidRange, "byte range \(self) starts beyond the end of \(StorageKey.printable(key)) (\(size) bytes)")
        }
        let count = min(length ?? (size - offset), size - offset)
        return (offset, count)
    }
}
