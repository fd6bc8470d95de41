import AsyncHTTPClient
import Foundation
import NIOCore
import SteadfastSigV4
import SteadfastStorage
import SteadfastTestSupport
import Synchronization
import Testing

/// The S3 backend against a real S3 API server (moto_server, default mode).
@Suite(.serialized) struct S3FileStorageTests {
    static let oddKey = "dir/with space+plus~tilde%pct=eq&amp/é漢字 🙂.bin"

    @Test func putGetRangeListMetadataDelete() async throws {
        try await withS3 { s3 in
            let storage = try s3.storage()
            let bytes = TestData.bytes(count: 300_000, seed: 11)
            let stored = try await storage.write(key: Self.oddKey, body: StorageByteStream.bytes(bytes), size: Int64(bytes.count), contentType: "application/pdf")
            #expect(stored.sha256 == TestData.sha256(bytes))

            let read = try await storage.read(key: Self.oddKey)
            #expect(read.contentLength == 300_000)
            #expect(try await TestData.collect(read.body) == bytes)

            let range = try await storage.read(key: Self.oddKey, range: ByteRange(offset: 1_000, length: 5_000))
            #expect(range.range?.offset == 1_000 && range.range?.count == 5_000 && range.object.size == 300_000)
            #expect(try await TestData.collect(range.body) == Array(bytes[1_000..<6_000]))

            let info = try #require(try await storage.metadata(key: Self.oddKey))
            #expect(info.size == 300_000)
            #expect(info.contentType == "application/pdf")
            #expect(info.sha256 == stored.sha256)

            _ = try await storage.write(key: "dir/other", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y")
            _ = try await storage.write(key: "elsewhere", body: StorageByteStream.bytes([]), size: 0, contentType: "x/y")
            #expect(try await storage.listAll(prefix: "dir/").map(\.key) == ["dir/other", Self.oddKey])
            let first = try await storage.list(prefix: "", continuationToken: nil, maxKeys: 2)
            #expect(first.objects.count == 2 && first.continuationToken != nil)
            let second = try await storage.list(prefix: "", continuationToken: first.continuationToken, maxKeys: 2)
            #expect(second.objects.map(\.key) == ["elsewhere"] && second.continuationToken == nil)

            try await storage.delete(key: Self.oddKey)
            #expect(try await storage.metadata(key: Self.oddKey) == nil)
            let missing = await #expect(throws: StorageError.self) { try await storage.read(key: Self.oddKey) }
            #expect(missing?.kind == .notFound)
            let badKey = await #expect(throws: StorageError.self) { try await storage.write(key: "../x", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
            #expect(badKey?.kind == .invalidKey)
        }
    }

    /// 50 MiB and a bit through multipart upload (5 MiB parts, 3 at a time), streamed from a
    /// generator and verified by SHA-256 on the way in and on the way back.
    @Test func multipartUploadOfFiftyMebibytes() async throws {
        try await withS3 { s3 in
            let storage = try s3.storage(s3.settings(multipartThreshold: 8 << 20, partSize: 5 << 20, parallelism: 3))
            let size: Int64 = 50 * 1024 * 1024 + 12_345
            let expected = TestData.sha256OfGenerated(size: size, seed: 50)
            let stored = try await storage.write(key: "big/fifty.bin", body: TestData.generatedStream(size: size, seed: 50), size: size, contentType: "application/octet-stream")
            #expect(stored.sha256 == expected)
            #expect(try await storage.metadata(key: "big/fifty.bin")?.size == size)
            let back = try await TestData.digest(storage.read(key: "big/fifty.bin").body)
            #expect(back.size == size && back.sha256 == expected)
            // A range across the boundary of parts 1 and 2.
            let range = try await storage.read(key: "big/fifty.bin", range: ByteRange(offset: (5 << 20) - 10, length: 20))
            #expect(try await TestData.collect(range.body).count == 20)
            #expect(try await s3.openMultipartUploads().isEmpty)
        }
    }

    @Test func presignedURLIsFetchedByCurl() async throws {
        try await withS3 { s3 in
            let storage = try s3.storage()
            let bytes = TestData.bytes(count: 70_000, seed: 12)
            _ = try await storage.write(key: Self.oddKey, body: StorageByteStream.bytes(bytes), size: Int64(bytes.count), contentType: "application/pdf")
            let url = try await storage.downloadURL(key: Self.oddKey, expiresIn: .seconds(300), downloadFilename: "report é.pdf")
            #expect(url.absoluteString.contains("X-Amz-Expires=300"))
            #expect(url.absoluteString.contains("X-Amz-Signature="))
            try await withTemporaryDirectory { directory in
                let output = directory + "/download"
                let result = try await ProcessRunner.run(["curl", "-sS", "-f", "-D", directory + "/headers", "-o", output, url.absoluteString], timeout: .seconds(60))
                try #require(result.status == 0, "curl failed: \(result.standardError)")
                #expect(Array(try Data(contentsOf: URL(fileURLWithPath: output))) == bytes)
                // moto ignores response-content-disposition; the parameter is signed and sent.
                #expect(url.absoluteString.contains("response-content-disposition=attachment%3B%20filename%3D%22report%20_.pdf%22%3B%20filename%2A%3DUTF-8%27%27report%2520%25C3%25A9.pdf"))
            }
            let tooLong = await #expect(throws: StorageError.self) { try await storage.downloadURL(key: "a", expiresIn: .seconds(8 * 86_400)) }
            #expect(tooLong?.kind == .invalidConfiguration)
        }
    }

    @Test func aMissingBucketSaysSo() async throws {
        try await withS3 { s3 in
            let storage = try s3.storage(s3.settings(bucket: "no-such-bucket"))
            let health = await #expect(throws: StorageError.self) { try await storage.healthCheck() }
            #expect(health?.kind == .noSuchBucket)
            let write = await #expect(throws: StorageError.self) { try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
            #expect(write?.kind == .noSuchBucket)
            #expect(write?.message.contains("bucket 'no-such-bucket' at 127.0.0.1 does not exist") == true, "\(write?.message ?? "")")
            let read = await #expect(throws: StorageError.self) { try await storage.read(key: "a") }
            #expect(read?.kind == .noSuchBucket)
            let metadata = await #expect(throws: StorageError.self) { try await storage.metadata(key: "a") }
            #expect(metadata?.kind == .noSuchBucket)
        }
    }

    /// A body that fails in the middle of a multipart upload: the upload is aborted, nothing
    /// is stored and no parts stay behind.
    @Test func aFailingBodyAbortsTheMultipartUpload() async throws {
        struct SourceBroke: Error {}
        try await withS3 { s3 in
            let storage = try s3.storage(s3.settings(multipartThreshold: 5 << 20, partSize: 5 << 20, parallelism: 2))
            let body = TestData.generatedStream(size: 30 << 20, seed: 7) { produced in
                if produced > 17 << 20 { throw SourceBroke() }
            }
            await #expect(throws: SourceBroke.self) { try await storage.write(key: "broken/upload", body: body, size: 30 << 20, contentType: "x/y") }
            #expect(try await storage.metadata(key: "broken/upload") == nil)
            #expect(try await s3.openMultipartUploads().isEmpty)

            let short = await #expect(throws: StorageError.self) {
                try await storage.write(key: "short/upload", body: TestData.generatedStream(size: 12 << 20, seed: 8), size: 13 << 20, contentType: "x/y")
            }
            #expect(short?.kind == .sizeMismatch)
            #expect(try await storage.metadata(key: "short/upload") == nil)
            #expect(try await s3.openMultipartUploads().isEmpty)
        }
    }

    /// The storage server dies in the middle of a multipart upload (the TCP path to it is
    /// killed by PID) and comes back a moment later: the write fails with a clear error, and
    /// the abort, retried until the server is back, leaves no object and no open upload.
    @Test func aServerKilledMidUploadLeavesNothingBehind() async throws {
        try await withS3 { s3 in
            let proxy = try TCPProxy(targetPort: s3.server.port)
            try await proxy.start()
            defer { proxy.kill() }
            let (killed, restarted) = (KillOnce(), KillOnce())
            let settings = try s3.settings(
                endpoint: proxy.endpoint, multipartThreshold: 5 << 20, partSize: 5 << 20, parallelism: 2,
                retry: S3RetryPolicy(maximumAttempts: 2, baseDelay: .milliseconds(10), maximumDelay: .milliseconds(20)),
                // The server comes back after the upload has given up, while the abort retries:
                // the abort's first wait (its first attempt failed) starts it again.
                abortRetry: S3RetryPolicy(maximumAttempts: 5, sleep: { _ in
                    if restarted.first() { try await proxy.start() }
                })
            )
            let storage = try s3.storage(settings)
            let body = TestData.generatedStream(size: 40 << 20, seed: 9) { produced in
                guard produced >= 16 << 20, killed.first() else { return }
                proxy.kill()
            }
            let error = await #expect(throws: StorageError.self) { try await storage.write(key: "killed/upload", body: body, size: 40 << 20, contentType: "x/y") }
            #expect(error?.kind == .unavailable)
            #expect(killed.happened)
            #expect(restarted.happened, "the abort never had to retry")
            let direct = try s3.storage()
            #expect(try await direct.metadata(key: "killed/upload") == nil)
            #expect(try await s3.openMultipartUploads().isEmpty)
        }
    }

    /// 503 SlowDown and 429 answers are retried with back-off until the server serves.
    @Test(arguments: [503, 429, 500])
    func serverErrorsAreRetried(status: Int) async throws {
        let port = try FreePort.next()
        let process = try Self.startFlakyS3(port: port, failures: 2, status: status)
        defer { process.killAndReap() }
        let waits = Waits()
        let settings = try S3Settings(
            bucket: "flaky", region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:\(port)")!, pathStyle: true,
            credentials: S3Fixture.anyCredentials,
            retry: S3RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(10), random: { 0.5 }, sleep: { waits.record($0) })
        )
        let storage = S3FileStorage(settings: settings, httpClient: S3Fixture.httpClient)
        try await Self.waitUntilServing("http://127.0.0.1:\(port)/ready")
        let read = try await storage.read(key: "k")
        let body = try await TestData.collect(read.body)
        #expect(String(decoding: body, as: UTF8.self) == "served after retries")
        #expect(waits.delays == [.milliseconds(5), .milliseconds(10)])

        let exhausted = S3FileStorage(settings: try S3Settings(
            bucket: "flaky", region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:\(try FreePort.next())")!, pathStyle: true,
            credentials: S3Fixture.anyCredentials, retry: S3RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(1))
        ), httpClient: S3Fixture.httpClient)
        let error = await #expect(throws: StorageError.self) { try await exhausted.read(key: "k") }
        #expect(error?.kind == .unavailable)
        #expect(error?.message.contains("after 3 attempt(s): connection refused") == true, "\(error?.message ?? "")")
    }

    /// A registry built from configuration gives its S3 targets the node's clock for the retry
    /// back-off: a read answered 503 twice waits on that clock (a `ManualClock` here) before each
    /// retry, and is served once the clock has moved.
    @Test func theRetryBackOffSleepsOnTheRegistrysClock() async throws {
        let port = try FreePort.next()
        let process = try Self.startFlakyS3(port: port, failures: 2, status: 503)
        defer { process.killAndReap() }
        try await Self.waitUntilServing("http://127.0.0.1:\(port)/ready")
        let clock = ManualClock()
        let configuration = StorageConfiguration(
            targets: [StorageTarget(name: "flaky", kind: .s3, bucket: "flaky", endpoint: "http://127.0.0.1:\(port)", accessKeyID: "AKIAX", secretAccessKey: "x")],
            defaultTarget: "flaky"
        )
        let registry = try StorageRegistry(configuration: configuration, environment: [:], httpClient: S3Fixture.httpClient, clock: clock)
        let storage = try #require(registry.targets["flaky"])
        let outcome = LockedBox<Result<String, any Error>?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    let read = try await storage.read(key: "k")
                    let body = try await TestData.collect(read.body)
                    outcome.with { $0 = .success(String(decoding: body, as: UTF8.self)) }
                } catch { outcome.with { $0 = .failure(error) } }
            }
            // Each back-off (at most 0.1 s, then 0.2 s) waits for the clock, however long it takes.
            for retry in 1...2 {
                try await waitUntil("back-off \(retry) asleep on the clock") { clock.sleepers == 1 }
                #expect(outcome.value == nil, "the read ended while its back-off waited for the clock")
                clock.advance(by: .seconds(1))
            }
            try await waitUntil("the read to be served") { outcome.value != nil }
            try await group.waitForAll()
        }
        guard case .success(let body) = outcome.value else { Issue.record("\(String(describing: outcome.value))"); return }
        #expect(body == "served after retries")
    }

    /// `Scripts/flaky_s3.py` on `port`: answers the first `failures` requests with `status`.
    static func startFlakyS3(port: Int, failures: Int, status: Int) throws -> Process {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Scripts/flaky_s3.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(port), String(failures), String(status)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitUntilServing(_ url: String) async throws {
        try await waitUntil("\(url) answers", timeout: .seconds(20), interval: .milliseconds(50)) {
            guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)) else { return false }
            _ = try? await response.body.collect(upTo: 1 << 16)
            return true
        }
    }
}

/// Remembers the first call.
final class KillOnce: Sendable {
    private let done = Mutex(false)
    func first() -> Bool { done.withLock { let was = $0; $0 = true; return !was } }
    var happened: Bool { done.withLock { $0 } }
}

/// Records the back-off waits a retry policy asked for, without waiting.
final class Waits: Sendable {
    private let recorded = Mutex<[Duration]>([])
    func record(_ delay: Duration) { recorded.withLock { $0.append(delay) } }
    func reset() { recorded.withLock { $0 = [] } }
    var delays: [Duration] { recorded.withLock { $0 } }
    var count: Int { delays.count }
}
