/// One file as the file catalogue (the database table of file records) knows it.
public struct CatalogFile: Sendable, Hashable {
    /// The record's id (the database key, as text).
    public var id: String
    /// The file's type.
    public var type: FileType
    /// The key relative to the type's prefix (the same on every target).
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// SHA-256 recorded when the file was first stored, lowercase hex: the reference every
    /// copy is verified against.
    public var sha256: String
    /// Media type.
    public var contentType: String
    /// Targets that hold a verified copy.
    public var locations: Set<String>

    /// Creates a record.
    public init(id: String, type: FileType, key: String, size: Int64, sha256: String, contentType: String, locations: Set<String>) {
        self.id = id
        self.type = type
        self.key = key
        self.size = size
        self.sha256 = sha256
        self.contentType = contentType
        self.locations = locations
    }
}
