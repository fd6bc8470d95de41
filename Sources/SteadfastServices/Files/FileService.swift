import Foundation
import Logging
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastStorage

/// Keeps the portal's files: streams uploads into the current storage target of their type,
/// records them (with their SHA-256) in the catalogue, and serves them back from a target that
/// holds a verified copy. Access control is the caller's (pass the owner to look files up).
public struct FileService: Sendable {
    /// Why a file operation was refused; messages are safe to show.
    public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable { case invalidFilename, invalidContentType, tooLarge, quotaExceeded, notFound }
        public let kind: Kind
        public let message: String
        public var description: String { message }
    }

    let database: any SQLDatabase
    public let registry: StorageRegistry
    let clock: any WallClock
    let logger: Logger
    /// The most bytes one owner's files may take in all (`storage.client_quota`); nil: no limit.
    let ownerQuota: Int64?

    public init(database: any SQLDatabase, registry: StorageRegistry, clock: any WallClock = SystemWallClock(), ownerQuota: Int64? = nil, logger: Logger) {
        self.database = database
        self.registry = registry
        self.clock = clock
        self.ownerQuota = ownerQuota
        self.logger = logger
    }

    /// Streams `body` (exactly `size` bytes) into storage and records the file. Nothing is
    /// recorded unless the bytes were stored completely; nothing stays stored unless recorded.
    /// `alsoRecord` runs inside the recording transaction (a caller's own row about the file,
    /// e.g. a ticket attachment): if it throws, neither the rows nor the bytes stay.
    public func upload<Body: AsyncSequence & Sendable>(
        type: FileType, owner: UUID?, filename rawName: String, contentType rawType: String?, size: Int64, body: Body,
        alsoRecord: (@Sendable (any SQLExecutor, StoredFile) async throws -> Void)? = nil
    ) async throws -> StoredFile where Body.Element == ByteBuffer {
        let filename = try Self.validFilename(rawName)
        let contentType = try Self.validContentType(rawType)
        let id = UUID()
        let key = "\(owner?.uuidString.lowercased() ?? "shared")/\(id.uuidString.lowercased())"
        if let owner {
            // Checked before the bytes are streamed (a full account fails fast) and again when
            // the file is recorded (two uploads at once cannot both fit in the last bytes).
            try Self.checkQuota(ownerQuota, used: try await bytesUsed(by: owner, in: database), adding: size)
        }
        let storage = registry.storage(for: type)
        let stored = try await storage.write(key: key, body: body, size: size, contentType: contentType)
        let now = clock.now()
        let file = StoredFile(
            id: id, type: type, key: key, size: stored.size, sha256: stored.sha256, contentType: contentType,
            filename: filename, ownerID: owner, createdAt: now, locations: [storage.targetName]
        )
        do {
            try await database.transaction { [ownerQuota] tx in
                if let owner, ownerQuota != nil {
                    // Serialises one owner's uploads on PostgreSQL; SQLite's transactions already run one at a time.
                    _ = try await tx.first("SELECT id FROM accounts WHERE id = \(owner)\(SQL.forUpdate(tx.dialect))")
                    try Self.checkQuota(ownerQuota, used: try await bytesUsed(by: owner, in: tx), adding: stored.size)
                }
                try await tx.query("""
                    INSERT INTO stored_files (id, file_type, storage_key, size, sha256, content_type, filename, owner_id, created_at)
                    VALUES (\(id), \(type.rawValue), \(key), \(stored.size), \(stored.sha256), \(contentType), \(filename), \(owner), \(now))
                    """)
                try await tx.query("""
                    INSERT INTO stored_file_locations (file_id, target, verified_at) VALUES (\(id), \(storage.targetName), \(now))
                    """)
                try await alsoRecord?(tx, file)
            }
        } catch {
            // Unrecorded bytes would be invisible garbage: remove them (best effort).
            do { try await storage.delete(key: key) } catch {
                logger.warning("could not remove an unrecorded upload", metadata: ["steadfast.file.key": "\(key)", "error": "\(error)"])
            }
            throw error
        }
        logger.info("file stored", metadata: [
            "steadfast.file.id": "\(id.uuidString.lowercased())", "steadfast.file.target": "\(storage.targetName)", "steadfast.file.size": "\(stored.size)",
        ])
        return file
    }

    /// Bytes of every file `owner` has stored.
    func bytesUsed(by owner: UUID, in db: any SQLExecutor) async throws -> Int64 {
        try await db.first("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM stored_files WHERE owner_id = \(owner)")?.int("used") ?? 0
    }

    static func checkQuota(_ quota: Int64?, used: Int64, adding size: Int64) throws(FileError) {
        guard let quota else { return }
        let (total, overflow) = used.addingReportingOverflow(size)
        guard overflow || total > quota else { return }
        let free = max(0, quota - used)
        throw FileError(kind: .quotaExceeded, message: "your files may take at most \(quota) bytes in all and \(free) bytes are free; delete some files before uploading this one (\(size) bytes)")
    }

    /// Files of `type` owned by `owner`, newest first, one page at a time (locations loaded
    /// with one more statement for the whole page).
    public func files(owner: UUID, type: FileType, limit: Int = 50, offset: Int = 0) async throws -> [StoredFile] {
        let rows = try await database.read("""
            SELECT * FROM stored_files WHERE owner_id = \(owner) AND file_type = \(type.rawValue)
            ORDER BY created_at DESC, id LIMIT \(limit) OFFSET \(offset)
            """)
        let ids = try rows.map { try $0.uuid("id") }
        guard !ids.isEmpty else { return [] }
        let locations = try StoredFileLocations.grouped(try await database.read(StoredFileLocations.statement(for: ids)))
        return try zip(rows, ids).map { row, id in try Self.file(from: row, id: id, locations: locations[id] ?? []) }
    }

    /// The file `id` if `owner` may see it (`owner == nil`: staff, who see every file).
    public func file(id: UUID, owner: UUID?) async throws -> StoredFile? {
        guard let row = try await database.readFirst("SELECT * FROM stored_files WHERE id = \(id)") else { return nil }
        let file = try await file(from: row)
        if let owner, file.ownerID != owner { return nil }
        return file
    }

    /// Opens the file for reading (optionally a byte range) from a target holding a verified
    /// copy, preferring the type's current target.
    public func open(_ file: StoredFile, range: ByteRange?) async throws -> StorageReadResult {
        try await storage(holding: file).read(key: file.key, range: range)
    }

    /// A time-limited download link: a presigned S3 URL, or a signed portal link for local targets.
    public func downloadURL(_ file: StoredFile, expiresIn: Duration) async throws -> URL {
        try await storage(holding: file).downloadURL(key: file.key, expiresIn: expiresIn, downloadFilename: file.filename)
    }

    /// The service's wall clock's time (what callers stamp their rows of a change with).
    public func now() -> Date { clock.now() }

    /// Forgets the file and removes every copy (copies that cannot be removed are logged).
    /// `alsoDelete` runs first in the same transaction (a caller's rows that reference the file).
    public func delete(_ file: StoredFile, alsoDelete: (@Sendable (any SQLExecutor) async throws -> Void)? = nil) async throws {
        try await database.transaction { tx in
            try await alsoDelete?(tx)
            try await tx.query("DELETE FROM stored_file_locations WHERE file_id = \(file.id)")
            try await tx.query("DELETE FROM stored_files WHERE id = \(file.id)")
        }
        for location in file.locations {
            do {
                try await registry.storage(for: file.type, on: location).delete(key: file.key)
            } catch {
                logger.warning("could not remove a copy of a deleted file", metadata: ["steadfast.file.id": "\(file.id)", "steadfast.file.target": "\(location)", "error": "\(error)"])
            }
        }
    }

    func storage(holding file: StoredFile) async throws -> PrefixedFileStorage {
        let current = registry.route(for: file.type).target
        guard let location = file.locations.contains(current) ? current : file.locations.sorted().first else {
            throw FileError(kind: .notFound, message: "no stored copy of this file is recorded")
        }
        return try registry.storage(for: file.type, on: location)
    }

    func file(from row: SQLRow) async throws -> StoredFile {
        let id = try row.uuid("id")
        let locations = try StoredFileLocations.grouped(try await database.read(StoredFileLocations.statement(for: [id])))
        return try Self.file(from: row, id: id, locations: locations[id] ?? [])
    }

    static func file(from row: SQLRow, id: UUID, locations: [String]) throws -> StoredFile {
        guard let type = FileType(rawValue: try row.string("file_type")) else {
            throw DatabaseError(.decoding, message: "stored_files.file_type holds an unknown type")
        }
        return StoredFile(
            id: id, type: type, key: try row.string("storage_key"), size: try row.int("size"), sha256: try row.string("sha256"),
            contentType: try row.string("content_type"), filename: try row.string("filename"), ownerID: try row.optionalUUID("owner_id"),
            createdAt: try row.date("created_at"), locations: locations
        )
    }

    /// 1-255 characters, no path separators or control characters (it is only ever a label).
    static func validFilename(_ raw: String) throws(FileError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 255 else {
            throw FileError(kind: .invalidFilename, message: "the file name must be 1 to 255 characters long")
        }
        guard !name.contains("/"), !name.contains("\\"), name != ".", name != "..",
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        else {
            throw FileError(kind: .invalidFilename, message: "the file name must not contain slashes or control characters")
        }
        return name
    }

    /// A `type/subtype` media type (parameters allowed); missing means `application/octet-stream`.
    static func validContentType(_ raw: String?) throws(FileError) -> String {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return "application/octet-stream" }
        let essence = raw.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces)
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        let token: (Substring) -> Bool = { part in
            !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$&^_.+-".contains($0)) }
        }
        guard parts.count == 2, token(parts[0]), token(parts[1]), raw.count <= 200,
              !raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw FileError(kind: .invalidContentType, message: "'\(raw)' is not a valid content type")
        }
        return raw
    }
}
