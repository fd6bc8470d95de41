import Foundation
import NIOCore
import SteadfastStorage
import Synchronization

/// A test target in front of a real one: every call it does not take over goes to `base`.
protocol StorageWrapper: FileStorage {
    var base: any FileStorage { get }
}

extension StorageWrapper {
    func write<Body: AsyncSequence>(key: String, body: Body, size: Int64, contentType: String) async throws -> StoredObject where Body.Element == ByteBuffer {
        try await base.write(key: key, body: body, size: size, contentType: contentType)
    }
    func read(key: String, range: ByteRange?) async throws -> StorageReadResult { try await base.read(key: key, range: range) }
    func delete(key: String) async throws { try await base.delete(key: key) }
    func metadata(key: String) async throws -> StoredObjectInfo? { try await base.metadata(key: key) }
    func list(prefix: String, continuationToken: String?, maxKeys: Int) async throws -> StorageListPage {
        try await base.list(prefix: prefix, continuationToken: continuationToken, maxKeys: maxKeys)
    }
    func downloadURL(key: String, expiresIn: Duration, downloadFilename: String?) async throws -> URL {
        try await base.downloadURL(key: key, expiresIn: expiresIn, downloadFilename: downloadFilename)
    }
    func healthCheck() async throws { try await base.healthCheck() }
}

/// A backend wrapper that counts completed writes and can be told to fail them, to play a
/// target that breaks (or a process that dies) in the middle of a migration.
final class CountingStorage: StorageWrapper {
    let base: any FileStorage
    private let state = Mutex((writes: 0, failAfter: Int?.none))

    init(_ base: any FileStorage) { self.base = base }

    /// Completed writes so far.
    var writes: Int { state.withLock { $0.writes } }
    /// Fail every write once `count` writes have completed (nil: never fail).
    func failAfter(_ count: Int?) { state.withLock { $0.failAfter = count } }

    var displayName: String { "counting \(base.displayName)" }

    func write<Body: AsyncSequence>(key: String, body: Body, size: Int64, contentType: String) async throws -> StoredObject where Body.Element == ByteBuffer {
        let refuse = state.withLock { state in state.failAfter.map { state.writes >= $0 } ?? false }
        if refuse { throw StorageError(.unavailable, "the test target is down") }
        let stored = try await base.write(key: key, body: body, size: size, contentType: contentType)
        state.withLock { $0.writes += 1 }
        return stored
    }
}

/// A catalogue wrapper whose `markVerified` fails once for chosen files (the process died
/// between copying a file and recording it), and that can add a file while a migration runs.
final class ScriptedCatalog: FileCatalog {
    let base: InMemoryFileCatalog
    private let state = Mutex((failOnce: Set<String>(), fromStartListings: 0))
    /// Called with the number of listings from the start of the type, after each one.
    let afterListing: @Sendable (Int) async throws -> Void

    init(base: InMemoryFileCatalog, failOnce: Set<String> = [], afterListing: @escaping @Sendable (Int) async throws -> Void = { _ in }) {
        self.base = base
        self.afterListing = afterListing
        state.withLock { $0.failOnce = failOnce }
    }

    func files(of type: FileType, after afterID: String?, limit: Int) async throws -> [CatalogFile] {
        let page = await base.files(of: type, after: afterID, limit: limit)
        if afterID == nil {
            let count = state.withLock { $0.fromStartListings += 1; return $0.fromStartListings }
            try await afterListing(count)
        }
        return page
    }

    func files(of type: FileType, missingFrom target: String, after afterID: String?, limit: Int) async throws -> [CatalogFile] {
        let page = await base.files(of: type, missingFrom: target, after: afterID, limit: limit)
        if afterID == nil {
            let count = state.withLock { $0.fromStartListings += 1; return $0.fromStartListings }
            try await afterListing(count)
        }
        return page
    }

    func markVerified(fileID: String, on target: String) async throws {
        let fail = state.withLock { $0.failOnce.remove(fileID) != nil }
        if fail { throw StorageError(.io, "the catalogue went away before file \(fileID) was recorded") }
        await base.markVerified(fileID: fileID, on: target)
    }

    func switchTarget(of type: FileType, to target: String) async throws { await base.switchTarget(of: type, to: target) }
    func currentTarget(of type: FileType) async throws -> String? { await base.currentTarget(of: type) }
}

/// Files of one type stored on a source target and recorded in a catalogue.
struct MigrationWorld {
    let registry: StorageRegistry
    let catalog: InMemoryFileCatalog
    let contents: [String: [UInt8]]
    static let type = FileType.clientFiles

    /// `count` files (sizes from 0 bytes to ~3 MB) written to `source` and recorded.
    static func make(targets: [String: any FileStorage], source: String, count: Int = 12) async throws -> MigrationWorld {
        var routes: [FileType: StorageRoute] = [:]
        for type in FileType.allCases { routes[type] = StorageRoute(target: source, prefix: type.defaultPrefix) }
        let registry = try StorageRegistry(targets: targets, routes: routes)
        let catalog = InMemoryFileCatalog()
        var contents: [String: [UInt8]] = [:]
        let storage = registry.storage(for: type)
        for index in 0..<count {
            let id = String(format: "f%02d", index)
            let size = [0, 1, 1_000, 70_000, 1_048_576, 3_000_001][index % 6] + index
            let bytes = TestData.bytes(count: size, seed: UInt64(100 + index))
            let key = "client-\(index % 3)/file \(index)+é.bin"
            let stored = try await storage.write(key: key, body: StorageByteStream.bytes(bytes), size: Int64(size), contentType: "application/octet-stream")
            await catalog.add(CatalogFile(id: id, type: type, key: key, size: stored.size, sha256: stored.sha256, contentType: stored.contentType, locations: [source]))
            contents[id] = bytes
        }
        return MigrationWorld(registry: registry, catalog: catalog, contents: contents)
    }

    /// Checks every file reads back byte-identical from `target`.
    func expectAll(on target: String) async throws -> Bool {
        let storage = try registry.storage(for: Self.type, on: target)
        for file in await catalog.allFiles() where file.type == Self.type && contents[file.id] != nil {
            guard try await TestData.collect(storage.read(key: file.key).body) == contents[file.id] else { return false }
        }
        return true
    }
}

/// Collects progress reports.
final class ProgressLog: Sendable {
    private let reports = Mutex<[MigrationProgress]>([])
    func record(_ progress: MigrationProgress) { reports.withLock { $0.append(progress) } }
    var all: [MigrationProgress] { reports.withLock { $0 } }
}
