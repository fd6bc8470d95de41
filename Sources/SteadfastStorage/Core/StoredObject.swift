/// What a successful write returns: the object as stored, with the SHA-256 computed while its
/// bytes streamed in (record it in the file catalogue).
public struct StoredObject: Sendable, Hashable {
    /// The key as given to `write` (without the target's or type's prefix).
    public var key: String
    /// Number of bytes stored.
    public var size: Int64
    /// SHA-256 of the bytes, lowercase hex.
    public var sha256: String
    /// The content type stored with the object.
    public var contentType: String

    /// Creates a value.
    public init(key: String, size: Int64, sha256: String, contentType: String) {
        self.key = key
        self.size = size
        self.sha256 = sha256
        self.contentType = contentType
    }
}
