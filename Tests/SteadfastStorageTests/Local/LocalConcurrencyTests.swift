import Foundation
import NIOCore
import SteadfastStorage
import Testing

/// Several writers replace one file while several readers read it: every read returns one
/// complete version, never a partial or mixed file (the temp file + fsync + rename design).
@Suite struct LocalConcurrencyTests {
    /// Version `v` of the file: its size depends on `v`, every byte is derived from `v`.
    static func version(_ v: Int) -> [UInt8] {
        let size = 200_000 + (v % 7) * 150_001
        var bytes = [UInt8](repeating: 0, count: size)
        withUnsafeBytes(of: UInt64(v).littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        for i in 8..<size { bytes[i] = UInt8(truncatingIfNeeded: v &* 31 &+ i) }
        return bytes
    }

    /// Checks that `bytes` is exactly one complete version; returns it.
    static func check(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 8 else { return nil }
        var raw: UInt64 = 0
        withUnsafeMutableBytes(of: &raw) { for i in 0..<8 { $0[i] = bytes[i] } }
        let v = Int(UInt64(littleEndian: raw))
        return version(v) == bytes ? v : nil
    }

    @Test func readersNeverSeeAPartialFile() async throws {
        try await withTemporaryDirectory { root in
            let storage = try LocalFileStorage(root: root)
            let initial = Self.version(0)
            _ = try await storage.write(key: "shared/file.bin", body: StorageByteStream.bytes(initial), size: Int64(initial.count), contentType: "x/y")
            let writers = 4, versionsPerWriter = 15, readers = 4, readsPerReader = 40
            let (written, seen) = try await withThrowingTaskGroup(of: (writes: Int, reads: [Int]).self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for n in 0..<versionsPerWriter {
                            let bytes = Self.version(1 + writer * versionsPerWriter + n)
                            // Small chunks make each write last long enough to overlap reads.
                            _ = try await storage.write(key: "shared/file.bin", body: StorageByteStream.bytes(bytes, chunkSize: 8_192), size: Int64(bytes.count), contentType: "x/y")
                        }
                        return (versionsPerWriter, [])
                    }
                }
                for _ in 0..<readers {
                    group.addTask {
                        var versions: [Int] = []
                        for _ in 0..<readsPerReader {
                            let bytes = try await TestData.collect(storage.read(key: "shared/file.bin").body)
                            guard let v = Self.check(bytes) else {
                                Issue.record("a reader saw \(bytes.count) bytes that are not one complete version")
                                continue
                            }
                            versions.append(v)
                        }
                        return (0, versions)
                    }
                }
                var writes = 0
                var reads: [Int] = []
                for try await result in group {
                    writes += result.writes
                    reads += result.reads
                }
                return (writes, reads)
            }
            #expect(written == writers * versionsPerWriter)
            #expect(seen.count == readers * readsPerReader)
            let final = try await TestData.collect(storage.read(key: "shared/file.bin").body)
            #expect(Self.check(final) != nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/.steadfast-tmp").isEmpty)
        }
    }
}
