import Foundation
import NIOCore

/// A place that keeps files: a local/NAS directory (``LocalFileStorage``) or an S3-compatible
/// bucket (``S3FileStorage``). Every feature that keeps uploads goes through this protocol.
///
/// Keys follow ``StorageKey``'s rules on every backend. Bodies stream in both directions: a
/// write consumes its sequence chunk by chunk and a read returns a pulling stream, so a
/// 1 GiB file never sits in memory.
///
/// Guarantees every backend keeps:
/// - a write is all or nothing: readers see the old object or the complete new one, and a
///   write whose body has more or fewer bytes than `size`, or that fails midway, stores nothing;
/// - the returned SHA-256 is computed from the bytes as they streamed in;
/// - errors are ``StorageError``s whose message names the target, key and cause.
public protocol FileStorage: Sendable {
    /// A short description for messages and logs (`local /mnt/nas`, `s3 bucket invoices`).
    var displayName: String { get }

    /// Stores `body` under `key`, replacing any object there.
    /// - Parameters:
    ///   - size: the exact number of bytes `body` will yield (checked).
    ///   - contentType: the media type to store with the object, e.g. `application/pdf`.
    /// - Returns: key, size, SHA-256 and content type of what was stored.
    func write<Body: AsyncSequence>(
        key: String, body: Body, size: Int64, contentType: String
    ) async throws -> StoredObject where Body.Element == ByteBuffer

    /// Opens `key` for reading, the whole object or `range`. Throws `.notFound` if absent.
    func read(key: String, range: ByteRange?) async throws -> StorageReadResult

    /// Deletes `key`; deleting an absent key succeeds.
    func delete(key: String) async throws

    /// The object's metadata, or nil when there is no object under `key`.
    func metadata(key: String) async throws -> StoredObjectInfo?

    /// One page of the objects whose keys start with `prefix` (plain string prefix, as S3).
    func list(prefix: String, continuationToken: String?, maxKeys: Int) async throws -> StorageListPage

    /// A URL that lets whoever holds it download `key` until `expiresIn` has passed, without
    /// other credentials. `downloadFilename` asks the browser to save under that name.
    func downloadURL(key: String, expiresIn: Duration, downloadFilename: String?) async throws -> URL

    /// A cheap reachability check for `/readyz`: the directory is there and writable, the
    /// bucket answers. Throws a ``StorageError`` saying what is wrong.
    func healthCheck() async throws
}

extension FileStorage {
    /// Reads the whole object.
    public func read(key: String) async throws -> StorageReadResult {
        try await read(key: key, range: nil)
    }

    /// Whether an object exists under `key`.
    public func exists(key: String) async throws -> Bool {
        try await metadata(key: key) != nil
    }

    /// Every object under `prefix`, following continuation tokens (for modest listings).
    public func listAll(prefix: String) async throws -> [StoredObjectInfo] {
        var all: [StoredObjectInfo] = []
        var token: String?
        repeat {
            let page = try await list(prefix: prefix, continuationToken: token, maxKeys: 1000)
            all += page.objects
            token = page.continuationToken
        } while token != nil
        return all
    }

    /// A download URL without a suggested file name.
    public func downloadURL(key: String, expiresIn: Duration) async throws -> URL {
        try await downloadURL(key: key, expiresIn: expiresIn, downloadFilename: nil)
    }
}
