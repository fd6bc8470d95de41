import Foundation
import NIOCore

/// A view of a storage target restricted to one key prefix: what a feature gets from
/// ``StorageRegistry/storage(for:)``. Keys given to it and returned by it are relative to the
/// prefix, so a file keeps the same key when its type moves to another target.
public struct PrefixedFileStorage: FileStorage {
    /// The target's name.
    public let targetName: String
    /// The prefix (target prefix + type prefix) added to every key.
    public let prefix: String
    /// The target's backend.
    public let base: any FileStorage

    /// Creates a view.
    public init(targetName: String, prefix: String, base: any FileStorage) {
        self.targetName = targetName
        self.prefix = prefix
        self.base = base
    }

    public var displayName: String { "\(targetName) (\(base.displayName))" }

    private func full(_ key: String) throws -> String {
        try StorageKey.validate(key)
        return prefix + key
    }

    public func write<Body: AsyncSequence>(
        key: String, body: Body, size: Int64, contentType: String
    ) async throws -> StoredObject where Body.Element == ByteBuffer {
        var stored = try await base.write(key: try full(key), body: body, size: size, contentType: contentType)
        stored.key = key
        return stored
    }

    public func read(key: String, range: ByteRange?) async throws -> StorageReadResult {
        var result = try await base.read(key: try full(key), range: range)
        result.object.key = key
        return result
    }

    public func delete(key: String) async throws {
        try await base.delete(key: try full(key))
    }

    public func metadata(key: String) async throws -> StoredObjectInfo? {
        guard var info = try await base.metadata(key: try full(key)) else { return nil }
        info.key = key
        return info
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) async throws -> StorageListPage {
        try StorageKey.validatePrefix(prefix)
        var page = try await base.list(prefix: self.prefix + prefix, continuationToken: continuationToken, maxKeys: maxKeys)
        page.objects = page.objects.compactMap { object in
            guard object.key.hasPrefix(self.prefix) else { return nil }
            var object = object
            object.key = String(object.key.dropFirst(self.prefix.count))
            return object
        }
        return page
    }

    public func downloadURL(key: String, expiresIn: Duration, downloadFilename: String?) async throws -> URL {
        try await base.downloadURL(key: try full(key), expiresIn: expiresIn, downloadFilename: downloadFilename)
    }

    public func healthCheck() async throws {
        try await base.healthCheck()
    }
}
