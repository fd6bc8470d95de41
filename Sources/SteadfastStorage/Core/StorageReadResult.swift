/// What `read` returns: the object's description and its bytes as a stream.
///
/// The stream pulls from the backend as it is iterated (a file handle or an HTTP response),
/// so only a chunk or two is in memory at a time. Iterate it once.
public struct StorageReadResult: Sendable {
    /// The whole object's metadata (its `size` is the full size, not the range's).
    public var object: StoredObjectInfo
    /// The range served, resolved against the object's size; nil for the whole object.
    public var range: (offset: Int64, count: Int64)?
    /// Number of bytes the stream will yield.
    public var contentLength: Int64
    /// The bytes.
    public var body: StorageByteStream

    /// Creates a result.
    public init(object: StoredObjectInfo, range: (offset: Int64, count: Int64)?, contentLength: Int64, body: StorageByteStream) {
        self.object = object
        self.range = range
        self.contentLength = contentLength
        self.body = body
    }
}
