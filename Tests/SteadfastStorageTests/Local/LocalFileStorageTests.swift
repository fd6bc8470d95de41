import Foundation
import NIOCore
import SteadfastStorage
import SteadfastTestSupport
import Testing

/// The local/NAS backend: round trips, ranges, atomicity of failed writes, clear errors.
@Suite struct LocalFileStorageTests {
    @Test func writesReadsRangesListsAndDeletes() async throws {
        try await withTemporaryDirectory { root in
            let storage = try LocalFileStorage(root: root)
            let bytes = TestData.bytes(count: 3_000_000, seed: 1)
            let stored = try await storage.write(key: "tickets/7/log file.txt", body: StorageByteStream.bytes(bytes, chunkSize: 100_000), size: Int64(bytes.count), contentType: "text/plain")
            #expect(stored == StoredObject(key: "tickets/7/log file.txt", size: 3_000_000, sha256: TestData.sha256(bytes), contentType: "text/plain"))

            let whole = try await storage.read(key: "tickets/7/log file.txt")
            #expect(whole.contentLength == 3_000_000)
            #expect(try await TestData.collect(whole.body) == bytes)

            let range = try await storage.read(key: "tickets/7/log file.txt", range: ByteRange(offset: 1_048_570, length: 20))
            #expect(range.range?.offset == 1_048_570 && range.range?.count == 20)
            #expect(try await TestData.collect(range.body) == Array(bytes[1_048_570..<1_048_590]))
            let tail = try await storage.read(key: "tickets/7/log file.txt", range: ByteRange(offset: 2_999_990, length: 1_000))
            #expect(try await TestData.collect(tail.body) == Array(bytes[2_999_990...]))
            await #expect(throws: StorageError.self) { try await storage.read(key: "tickets/7/log file.txt", range: ByteRange(offset: 3_000_000)) }

            #expect(try await storage.metadata(key: "tickets/7/log file.txt")?.size == 3_000_000)
            #expect(try await storage.exists(key: "tickets/7/other") == false)

            _ = try await storage.write(key: "tickets/8/a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y")
            _ = try await storage.write(key: "tickets/10", body: StorageByteStream.bytes([]), size: 0, contentType: "x/y")
            _ = try await storage.write(key: "other/z", body: StorageByteStream.bytes([2]), size: 1, contentType: "x/y")
            #expect(try await storage.listAll(prefix: "tickets/").map(\.key) == ["tickets/10", "tickets/7/log file.txt", "tickets/8/a"])
            #expect(try await storage.listAll(prefix: "tickets/1").map(\.key) == ["tickets/10"])
            let first = try await storage.list(prefix: "", continuationToken: nil, maxKeys: 2)
            #expect(first.objects.map(\.key) == ["other/z", "tickets/10"])
            let second = try await storage.list(prefix: "", continuationToken: first.continuationToken, maxKeys: 2)
            #expect(second.objects.map(\.key) == ["tickets/7/log file.txt", "tickets/8/a"])

            try await storage.delete(key: "tickets/7/log file.txt")
            try await storage.delete(key: "tickets/7/log file.txt")
            let missing = await #expect(throws: StorageError.self) { try await storage.read(key: "tickets/7/log file.txt") }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test func aWrongSizeStoresNothing() async throws {
        try await withTemporaryDirectory { root in
            let storage = try LocalFileStorage(root: root)
            _ = try await storage.write(key: "k", body: StorageByteStream.bytes([1, 2, 3]), size: 3, contentType: "x/y")
            let short = await #expect(throws: StorageError.self) {
                try await storage.write(key: "k", body: StorageByteStream.bytes([9, 9]), size: 3, contentType: "x/y")
            }
            #expect(short?.kind == .sizeMismatch)
            let long = await #expect(throws: StorageError.self) {
                try await storage.write(key: "k", body: StorageByteStream.bytes([9, 9, 9, 9]), size: 3, contentType: "x/y")
            }
            #expect(long?.kind == .sizeMismatch)
            #expect(try await TestData.collect(storage.read(key: "k").body) == [1, 2, 3])
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/.steadfast-tmp").isEmpty)
        }
    }

    @Test func aBodyThatFailsMidwayStoresNothing() async throws {
        struct Broken: Error {}
        try await withTemporaryDirectory { root in
            let storage = try LocalFileStorage(root: root)
            let body = TestData.generatedStream(size: 8 << 20, seed: 3) { produced in
                if produced > 3 << 20 { throw Broken() }
            }
            await #expect(throws: Broken.self) { try await storage.write(key: "big/file", body: body, size: 8 << 20, contentType: "x/y") }
            #expect(try await storage.metadata(key: "big/file") == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/.steadfast-tmp").isEmpty)
        }
    }

    @Test func traversalKeysAreRejectedBeforeTouchingTheDisk() async throws {
        try await withTemporaryDirectory { parent in
            let root = parent + "/root"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let storage = try LocalFileStorage(root: root)
            for key in ["../escape", "a/../../escape", "/tmp/escape", "..", "a/./b", "a\u{0}b", "..\u{2215}escape", "\u{FF0E}\u{FF0E}/escape", ".steadfast-tmp/x"] {
                let write = await #expect(throws: StorageError.self) { try await storage.write(key: key, body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
                #expect(write?.kind == .invalidKey)
                let read = await #expect(throws: StorageError.self) { try await storage.read(key: key) }
                #expect(read?.kind == .invalidKey)
                await #expect(throws: StorageError.self) { try await storage.delete(key: key) }
                await #expect(throws: StorageError.self) { try await storage.metadata(key: key) }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["root"])
        }
    }

    @Test func aMissingDirectorySaysSo() async throws {
        let storage = try LocalFileStorage(root: "/nonexistent-nas-mount/steadfast")
        let health = await #expect(throws: StorageError.self) { try await storage.healthCheck() }
        #expect(health?.kind == .directoryMissing)
        #expect(health?.message.contains("does not exist (is the NAS mounted?)") == true)
        let write = await #expect(throws: StorageError.self) { try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
        #expect(write?.kind == .directoryMissing)
        let read = await #expect(throws: StorageError.self) { try await storage.read(key: "a") }
        #expect(read?.kind == .directoryMissing)
        #expect(throws: StorageError.self) { try LocalFileStorage(root: "relative/path") }
    }

    @Test func aFileInsteadOfADirectorySaysSo() async throws {
        try await withTemporaryDirectory { parent in
            _ = FileManager.default.createFile(atPath: parent + "/file", contents: Data([1]))
            let storage = try LocalFileStorage(root: parent + "/file")
            let error = await #expect(throws: StorageError.self) { try await storage.healthCheck() }
            #expect(error?.kind == .directoryMissing)
            #expect(error?.message.contains("not a directory") == true)
        }
    }

    /// A read-only filesystem (a NAS exported read-only): a tmpfs mounted `ro` for the test.
    @Test func aReadOnlyDirectorySaysSo() async throws {
        try await withTemporaryDirectory { root in
            let mounted = try await ProcessRunner.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", root])
            try #require(mounted.status == 0, "mounting a read-only tmpfs needs root: \(mounted.standardError)")
            var failure: (any Error)?
            do {
                let storage = try LocalFileStorage(root: root)
                let health = await #expect(throws: StorageError.self) { try await storage.healthCheck() }
                #expect(health?.kind == .readOnly)
                let write = await #expect(throws: StorageError.self) { try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
                #expect(write?.kind == .readOnly)
                #expect(write?.message.contains("read-only filesystem") == true)
            } catch {
                failure = error
            }
            _ = try await ProcessRunner.run(["umount", root])
            if let failure { throw failure }
        }
    }

    @Test func aKeyCannotBeBothAFileAndADirectory() async throws {
        try await withTemporaryDirectory { root in
            let storage = try LocalFileStorage(root: root)
            _ = try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y")
            let error = await #expect(throws: StorageError.self) { try await storage.write(key: "a/b", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
            #expect(error?.kind == .keyConflict)
            #expect(try await TestData.collect(storage.read(key: "a").body) == [1])
        }
    }

    @Test func abandonedTemporaryFilesAreCleanedUp() async throws {
        try await withTemporaryDirectory { root in
            let later = Date().addingTimeInterval(7_200)
            let storage = try LocalFileStorage(root: root, now: { later })
            _ = try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y")
            _ = FileManager.default.createFile(atPath: root + "/.steadfast-tmp/dead-writer", contents: Data([1, 2]))
            #expect(try await storage.removeAbandonedTemporaryFiles() == 1)
            #expect(try await storage.listAll(prefix: "").map(\.key) == ["a"])
        }
    }
}
