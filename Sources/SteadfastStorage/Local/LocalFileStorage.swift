#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation
import NIOCore
import NIOPosix
import SteadfastDomain

/// File storage in a directory: a NAS mount shared by every node of the cluster (NFS, SMB,
/// CephFS...) or, for a single node, its own disk.
///
/// - Writes are atomic: bytes go to a temporary file in `<root>/.steadfast-tmp/`, are
///   `fsync`ed, then `rename`d over the destination and the directory is `fsync`ed, so a
///   reader on any node sees either the previous file or the complete new one.
/// - Keys are checked by ``StorageKey`` before any path is built, so none can leave `root`.
/// - A missing directory (NAS not mounted), a read-only filesystem or a permission problem
///   gives a ``StorageError`` that says so.
/// - Download links are HMAC-signed with the cluster secret by ``LocalDownloadLinkSigner``;
///   the portal serves them after ``LocalDownloadLinkSigner/verify(key:expires:filename:signature:now:)``.
///
/// Blocking system calls run on NIO's thread pool, never on Swift's cooperative threads.
public struct LocalFileStorage: FileStorage {
    /// The storage directory (absolute, without a trailing `/`).
    public let root: String
    /// Signs download links; nil when none were configured (`downloadURL` then throws).
    public let downloadLinks: LocalDownloadLinkSigner?
    private let threadPool: NIOThreadPool
    private let now: @Sendable () -> Date

    /// Bytes per read from disk and per write to disk.
    static let chunkSize = 1 << 20
    /// Directory, under `root`, of files being written.
    static let temporaryDirectoryName = StorageKey.reservedSegment

    /// Creates a backend over `root`, which must be an absolute path. The directory is not
    /// touched here: ``healthCheck()`` and every operation report a missing one.
    public init(
        root: String,
        downloadLinks: LocalDownloadLinkSigner? = nil,
        threadPool: NIOThreadPool = .singleton,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard root.hasPrefix("/") else {
            throw StorageError(.invalidConfiguration, "the local storage path '\(root)' must be absolute")
        }
        guard !root.utf8.contains(0) else {
            throw StorageError(.invalidConfiguration, "the local storage path contains a NUL byte")
        }
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
        self.downloadLinks = downloadLinks
        self.threadPool = threadPool
        self.now = now
    }

    public var displayName: String { "local directory \(root)" }

    private func path(of key: String) -> String { root == "/" ? "/" + key : root + "/" + key }

    // MARK: - Write

    public func write<Body: AsyncSequence>(
        key: String, body: Body, size: Int64, contentType: String
    ) async throws -> StoredObject where Body.Element == ByteBuffer {
        try StorageKey.validate(key)
        guard size >= 0 else { throw StorageError(.sizeMismatch, "cannot store \(StorageKey.printable(key)) with a negative size (\(size))") }
        let root = self.root
        let destination = path(of: key)
        let temporaryPath = root + "/" + Self.temporaryDirectoryName + "/" + UUID().uuidString.lowercased()
        let file: LocalOpenFile = try await run(key: key) {
            try Self.checkDirectory(root)
            try Self.makeDirectory(root + "/" + Self.temporaryDirectoryName)
            return try LocalOpenFile.open(temporaryPath, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o640)
        }
        do {
            var hasher = SHA256()
            var received: Int64 = 0
            var pending = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
            for try await chunk in body {
                received += Int64(chunk.readableBytes)
                guard received <= size else {
                    throw StorageError(.sizeMismatch, "the body for \(StorageKey.printable(key)) is longer than its declared \(size) bytes; nothing was stored")
                }
                hasher.update(buffer: chunk)
                if pending.readableBytes + chunk.readableBytes > Self.chunkSize, pending.readableBytes > 0 {
                    let full = pending
                    try await run(key: key) { try file.writeAll(full) }
                    pending.clear()
                }
                if chunk.readableBytes >= Self.chunkSize {
                    try await run(key: key) { try file.writeAll(chunk) }
                } else {
                    var chunk = chunk
                    pending.writeBuffer(&chunk)
                }
            }
            guard received == size else {
                throw StorageError(.sizeMismatch, "the body for \(StorageKey.printable(key)) had \(received) bytes, not the declared \(size); nothing was stored")
            }
            let last = pending
            try await run(key: key) {
                if last.readableBytes > 0 { try file.writeAll(last) }
                try file.sync()
                try Self.makeParentDirectories(of: key, root: root)
                try Self.rename(temporaryPath, to: destination)
                try Self.syncDirectory(Self.parent(of: destination))
            }
            return StoredObject(key: key, size: size, sha256: SHA256Hex.string(hasher.finalize()), contentType: contentType)
        } catch {
            let pool = threadPool
            _ = try? await pool.runIfActive { _ = unlink(temporaryPath) }
            throw error
        }
    }

    // MARK: - Read

    public func read(key: String, range: ByteRange?) async throws -> StorageReadResult {
        try StorageKey.validate(key)
        let root = self.root
        let path = self.path(of: key)
        let (file, info): (LocalOpenFile, stat) = try await run(key: key) {
            do {
                let file = try LocalOpenFile.open(path, flags: O_RDONLY)
                let info = try file.status()
                guard (info.st_mode & S_IFMT) == S_IFREG else { throw SystemCallError(call: "open", code: ENOENT) }
                return (file, info)
            } catch let error as SystemCallError where error.code == ENOENT || error.code == ENOTDIR {
                try Self.checkDirectory(root)
                throw error
            }
        }
        let size = Int64(info.st_size)
        let object = StoredObjectInfo(key: key, size: size, lastModified: Self.modificationDate(info))
        var start: Int64 = 0
        var count = size
        var served: (offset: Int64, count: Int64)?
        if let range {
            (start, count) = try range.resolved(againstSize: size, key: key)
            served = (start, count)
        }
        let pool = threadPool
        let end = start + count
        let firstByte = start
        let printableKey = StorageKey.printable(key)
        let body = StorageByteStream(makeNext: {
            var position = firstByte
            return {
                guard position < end else { return nil }
                let want = Int(min(Int64(Self.chunkSize), end - position))
                let at = position
                let chunk = try await pool.runIfActive { try file.read(count: want, at: at) }
                guard chunk.readableBytes > 0 else {
                    throw StorageError(.io, "\(printableKey) became shorter while it was being read")
                }
                position += Int64(chunk.readableBytes)
                return chunk
            }
        })
        return StorageReadResult(object: object, range: served, contentLength: count, body: body)
    }

    // MARK: - Delete, metadata, list

    public func delete(key: String) async throws {
        try StorageKey.validate(key)
        let root = self.root
        let path = self.path(of: key)
        try await run(key: key) {
            try Self.checkDirectory(root)
            if unlink(path) != 0 {
                let error = SystemCallError.last("unlink")
                if error.code == ENOENT || error.code == ENOTDIR { return }
                throw error
            }
        }
    }

    public func metadata(key: String) async throws -> StoredObjectInfo? {
        try StorageKey.validate(key)
        let root = self.root
        let path = self.path(of: key)
        return try await run(key: key) {
            var info = stat()
            if stat(path, &info) != 0 {
                let error = SystemCallError.last("stat")
                guard error.code == ENOENT || error.code == ENOTDIR else { throw error }
                try Self.checkDirectory(root)
                return nil
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return StoredObjectInfo(key: key, size: Int64(info.st_size), lastModified: Self.modificationDate(info))
        }
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) async throws -> StorageListPage {
        try StorageKey.validatePrefix(prefix)
        let root = self.root
        let limit = max(1, min(maxKeys, 1000))
        return try await run(key: prefix) {
            try Self.checkDirectory(root)
            // Walk only the deepest directory the prefix names, then filter by string prefix.
            let directoryPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
            var keys: [String] = []
            Self.collectKeys(root: root, relative: directoryPart, into: &keys)
            keys = keys.filter { $0.hasPrefix(prefix) }
            if let continuationToken {
                keys = keys.filter { continuationToken.utf8.lexicographicallyPrecedes($0.utf8) }
            }
            keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let page = keys.prefix(limit)
            var objects: [StoredObjectInfo] = []
            for key in page {
                var info = stat()
                guard stat(root + "/" + key, &info) == 0 else { continue }
                objects.append(StoredObjectInfo(key: key, size: Int64(info.st_size), lastModified: Self.modificationDate(info)))
            }
            let more = keys.count > limit
            return StorageListPage(objects: objects, continuationToken: more ? page.last : nil)
        }
    }

    // MARK: - Links and health

    public func downloadURL(key: String, expiresIn: Duration, downloadFilename: String?) async throws -> URL {
        try StorageKey.validate(key)
        guard let downloadLinks else {
            throw StorageError(.unsupported, "\(displayName) has no download-link secret and base URL configured, so it cannot make download links")
        }
        return try downloadLinks.url(for: key, expiresAt: now() + expiresIn, downloadFilename: downloadFilename)
    }

    public func healthCheck() async throws {
        let root = self.root
        try await run(key: "") {
            try Self.checkDirectory(root)
            if access(root, W_OK) != 0 { throw SystemCallError.last("access") }
        }
    }

    /// Deletes temporary files left by writers that died, older than `age`; returns how many.
    /// Call at start-up or now and then (a live write renames its file within seconds).
    @discardableResult
    public func removeAbandonedTemporaryFiles(olderThan age: Duration = .seconds(3_600)) async throws -> Int {
        let directory = root + "/" + Self.temporaryDirectoryName
        let limit = now() - age
        return try await run(key: "") {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
            var removed = 0
            for name in names {
                var info = stat()
                guard stat(directory + "/" + name, &info) == 0,
                      let modified = Self.modificationDate(info), modified < limit else { continue }
                if unlink(directory + "/" + name) == 0 { removed += 1 }
            }
            return removed
        }
    }

    // MARK: - Helpers

    /// Runs blocking work on the thread pool and turns system-call failures into messages.
    private func run<T: Sendable>(key: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threadPool.runIfActive(work)
        } catch let error as SystemCallError {
            throw describe(error, key: key)
        }
    }

    private func describe(_ error: SystemCallError, key: String) -> StorageError {
        let subject = key.isEmpty ? "the storage directory \(root)" : "\(StorageKey.printable(key)) in \(root)"
        switch error.code {
        case ENOENT where error.call == "open" || error.call == "stat":
            return StorageError(.notFound, "no file \(StorageKey.printable(key)) in \(root)")
        case ENOENT where error.call == "root":
            return StorageError(.directoryMissing, "the storage directory \(root) does not exist (is the NAS mounted?)")
        case ENOTDIR where error.call == "root":
            return StorageError(.directoryMissing, "the storage path \(root) is not a directory")
        case EROFS:
            return StorageError(.readOnly, "the storage directory \(root) is on a read-only filesystem (\(error.call) of \(subject))")
        case EACCES, EPERM:
            return StorageError(.permissionDenied, "permission denied: this process may not \(error.call) \(subject)")
        case EEXIST, ENOTDIR, EISDIR:
            return StorageError(.keyConflict, "\(StorageKey.printable(key)) collides with an existing file or directory in \(root) (a key cannot be both a file and a directory)")
        case ENOSPC, EDQUOT:
            return StorageError(.io, "no space left for \(subject): \(error.reason)")
        default:
            return StorageError(.io, "\(error.call) failed for \(subject): \(error.reason)")
        }
    }

    static func checkDirectory(_ root: String) throws {
        var info = stat()
        if stat(root, &info) != 0 {
            let code = errno
            throw SystemCallError(call: code == ENOENT || code == ENOTDIR ? "root" : "stat", code: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw SystemCallError(call: "root", code: ENOTDIR) }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o750) != 0 {
            let error = SystemCallError.last("mkdir")
            guard error.code == EEXIST else { throw error }
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SystemCallError(call: "mkdir", code: ENOTDIR)
            }
        }
    }

    static func makeParentDirectories(of key: String, root: String) throws {
        var path = root
        let segments = key.split(separator: "/")
        for segment in segments.dropLast() {
            path += "/" + segment
            try makeDirectory(path)
        }
    }

    static func rename(_ from: String, to: String) throws {
        if systemRename(from, to) != 0 { throw SystemCallError.last("rename") }
    }

    static func syncDirectory(_ path: String) throws {
        let directory = try LocalOpenFile.open(path, flags: O_RDONLY | O_DIRECTORY)
        // Some network filesystems refuse fsync on a directory; the rename is done either way.
        do { try directory.sync() } catch let error as SystemCallError where error.code == EINVAL || error.code == EBADF {}
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func collectKeys(root: String, relative: String, into keys: inout [String]) {
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            if relative.isEmpty && name == temporaryDirectoryName { continue }
            let key = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: collectKeys(root: root, relative: key, into: &keys)
            case S_IFREG: keys.append(key)
            default: continue
            }
        }
    }

    static func modificationDate(_ info: stat) -> Date? {
        #if canImport(Darwin)
        let spec = info.st_mtimespec
        #else
        let spec = info.st_mtim
        #endif
        return Date(timeIntervalSince1970: Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9)
    }
}

private func systemRename(_ from: String, _ to: String) -> CInt {
    rename(from, to)
}
