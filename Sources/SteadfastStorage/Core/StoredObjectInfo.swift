import Foundation

/// What `metadata` and `list` tell about a stored object.
///
/// `contentType` and `sha256` are known only where the backend keeps them (S3 keeps both for
/// single-request uploads and the content type for multipart ones; a local directory keeps
/// neither): the file catalogue is the reference for them.
public struct StoredObjectInfo: Sendable, Hashable {
    /// The key (without the target's or type's prefix when read through a prefixed view).
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// Last modification time, when the backend reports it.
    public var lastModified: Date?
    /// Content type, when the backend keeps it.
    public var contentType: String?
    /// SHA-256 (lowercase hex), when the backend keeps it.
    public var sha256: String?

    /// Creates a value.
    public init(key: String, size: Int64, lastModified: Date? = nil, contentType: String? = nil, sha256: String? = nil) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.contentType = contentType
        self.sha256 = sha256
    }
}
