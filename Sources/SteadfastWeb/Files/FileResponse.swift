import Foundation
import Hummingbird
import SteadfastServices

/// A stored file as the JSON API shows it.
struct FileResponse: ResponseEncodable {
    let id: String
    let filename: String
    let size: Int64
    let content_type: String
    let sha256: String
    let created_at: Date
    let locations: [String]

    init(_ file: StoredFile) {
        id = file.id.uuidString.lowercased()
        filename = file.filename
        size = file.size
        content_type = file.contentType
        sha256 = file.sha256
        created_at = file.createdAt
        locations = file.locations
    }
}

/// One page of a client's files.
struct FileListResponse: ResponseEncodable {
    let files: [FileResponse]
    let limit: Int
    let offset: Int
}
