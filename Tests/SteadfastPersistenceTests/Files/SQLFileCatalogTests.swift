import Foundation
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage
import SteadfastTestSupport
import Testing

/// The file catalogue on both engines: paging in id order, each record's locations, the
/// "missing from a target" listing a migration works from, and the two durable writes.
@Suite struct SQLFileCatalogTests {
    /// Records `count` client files on "local" (every third also on "s3") and one download.
    func seed(_ db: any SQLDatabase, count: Int) async throws -> [UUID] {
        var ids: [UUID] = []
        for index in 0..<count {
            let id = UUID()
            ids.append(id)
            let now = Date(timeIntervalSince1970: 1_800_000_000 + Double(index))
            try await db.query("""
                INSERT INTO stored_files (id, file_type, storage_key, size, sha256, content_type, filename, owner_id, created_at)
                VALUES (\(id), \(FileType.clientFiles.rawValue), \("k/\(index)"), \(Int64(index)), \("sha\(index)"), \("x/y"), \("f\(index)"), \(UUID?.none), \(now))
                """)
            try await db.query("INSERT INTO stored_file_locations (file_id, target, verified_at) VALUES (\(id), \("local"), \(now))")
            if index % 3 == 0 {
                try await db.query("INSERT INTO stored_file_locations (file_id, target, verified_at) VALUES (\(id), \("s3"), \(now))")
            }
        }
        let download = UUID()
        try await db.query("""
            INSERT INTO stored_files (id, file_type, storage_key, size, sha256, content_type, filename, owner_id, created_at)
            VALUES (\(download), \(FileType.downloads.rawValue), \("d/0"), \(Int64(1)), \("sha"), \("x/y"), \("d"), \(UUID?.none), \(Date()))
            """)
        return ids.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() }
    }

    /// Every page of a listing, `limit` at a time.
    func all(_ page: (String?) async throws -> [CatalogFile]) async throws -> [CatalogFile] {
        var files: [CatalogFile] = []
        while true {
            let next = try await page(files.last?.id)
            files += next
            if next.isEmpty { return files }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func pagesCarryLocationsAndTheMissingListingSkipsCopiedFiles(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let ids = try await seed(db, count: 7)
            let catalog = SQLFileCatalog(database: db)
            let files = try await all { try await catalog.files(of: .clientFiles, after: $0, limit: 3) }
            #expect(files.map(\.id) == ids.map { $0.uuidString.lowercased() })
            for file in files {
                let index = Int(file.key.dropFirst(2))!
                #expect(file.locations == (index % 3 == 0 ? ["local", "s3"] : ["local"]), "\(file.key)")
                #expect(file.size == Int64(index) && file.sha256 == "sha\(index)" && file.type == .clientFiles)
            }

            let missing = try await all { try await catalog.files(of: .clientFiles, missingFrom: "s3", after: $0, limit: 2) }
            #expect(missing.map(\.key).sorted() == ["k/1", "k/2", "k/4", "k/5"])
            #expect(missing.allSatisfy { $0.locations == ["local"] })

            try await catalog.markVerified(fileID: missing[0].id, on: "s3")
            try await catalog.markVerified(fileID: missing[0].id, on: "s3")  // twice is harmless
            let after = try await all { try await catalog.files(of: .clientFiles, missingFrom: "s3", after: $0, limit: 2) }
            #expect(after.map(\.id) == Array(missing.dropFirst()).map(\.id))
            #expect(try await catalog.files(of: .clientFiles, missingFrom: "local", after: nil, limit: 10).isEmpty)

            #expect(try await catalog.currentTarget(of: .clientFiles) == nil)
            try await catalog.switchTarget(of: .clientFiles, to: "s3")
            #expect(try await catalog.currentTarget(of: .clientFiles) == "s3")
            #expect(try await catalog.currentTarget(of: .downloads) == nil)
        }
    }
}
