import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastStorage

/// The file catalogue in the database: what `storage migrate` walks, and where every node
/// learns which target each file type uses (``StorageRegistry/refreshRoutes(from:)``).
public struct SQLFileCatalog: FileCatalog {
    let database: any SQLDatabase
    let clock: any WallClock

    public init(database: any SQLDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    public func files(of type: FileType, after afterID: String?, limit: Int) async throws -> [CatalogFile] {
        try await page(of: type, where: "", after: afterID, limit: limit)
    }

    public func files(of type: FileType, missingFrom target: String, after afterID: String?, limit: Int) async throws -> [CatalogFile] {
        try await page(of: type, where: """
            AND NOT EXISTS (SELECT 1 FROM stored_file_locations m WHERE m.file_id = stored_files.id AND m.target = \(target))
            """, after: afterID, limit: limit)
    }

    /// One page of records in id order, with their locations (two statements per page).
    private func page(of type: FileType, where condition: SQL, after afterID: String?, limit: Int) async throws -> [CatalogFile] {
        let after: SQL = afterID.flatMap(UUID.init(uuidString:)).map { "AND id > \($0)" } ?? ""
        let rows = try await database.query("""
            SELECT id, storage_key, size, sha256, content_type FROM stored_files
            WHERE file_type = \(type.rawValue) \(after) \(condition) ORDER BY id LIMIT \(limit)
            """)
        let ids = try rows.map { try $0.uuid("id") }
        guard !ids.isEmpty else { return [] }
        // On the primary, like the page itself: a migration must see the copies it just recorded.
        let locations = try StoredFileLocations.grouped(try await database.query(StoredFileLocations.statement(for: ids)))
        return try zip(rows, ids).map { row, id in
            CatalogFile(
                id: id.uuidString.lowercased(), type: type, key: try row.string("storage_key"), size: try row.int("size"),
                sha256: try row.string("sha256"), contentType: try row.string("content_type"), locations: Set(locations[id] ?? [])
            )
        }
    }

    public func markVerified(fileID: String, on target: String) async throws {
        guard let id = UUID(uuidString: fileID) else { throw StorageError(.invalidKey, "'\(fileID)' is not a file id") }
        try await database.transaction(TransactionOptions(idempotent: true)) { tx in
            try await tx.query("""
                INSERT INTO stored_file_locations (file_id, target, verified_at) VALUES (\(id), \(target), \(clock.now()))
                ON CONFLICT (file_id, target) DO NOTHING
                """)
        }
    }

    public func switchTarget(of type: FileType, to target: String) async throws {
        let now = clock.now()
        try await database.transaction(TransactionOptions(idempotent: true)) { tx in
            try await tx.query("""
                INSERT INTO storage_routes (file_type, target, updated_at) VALUES (\(type.rawValue), \(target), \(now))
                ON CONFLICT (file_type) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at
                """)
        }
    }

    public func currentTarget(of type: FileType) async throws -> String? {
        try await database.readFirst("SELECT target FROM storage_routes WHERE file_type = \(type.rawValue)").map { try $0.string("target") }
    }
}
