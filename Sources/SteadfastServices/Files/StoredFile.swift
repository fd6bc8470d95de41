import Foundation
import SteadfastStorage

/// A file the portal keeps, as recorded in the catalogue.
public struct StoredFile: Sendable, Equatable {
    public var id: UUID
    public var type: FileType
    /// The storage key, relative to the type's prefix (never user input).
    public var key: String
    public var size: Int64
    public var sha256: String
    public var contentType: String
    /// The name the uploader gave it (shown and used for downloads; never used as a path).
    public var filename: String
    public var ownerID: UUID?
    public var createdAt: Date
    /// Targets holding a verified copy.
    public var locations: [String]
}
