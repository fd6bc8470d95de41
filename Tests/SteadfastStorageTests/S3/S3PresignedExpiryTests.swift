import Foundation
import SteadfastSigV4
import SteadfastStorage
import SteadfastTestSupport
import Testing

/// Presigned URLs against a server that enforces them: SeaweedFS checks every signature and
/// refuses a URL past its `X-Amz-Expires` (moto checks neither for presigned URLs). One server
/// for the whole test, since it takes seconds to start.
@Suite(.serialized, .timeLimit(.minutes(3))) struct S3PresignedExpiryTests {
    static let credentials = AWSCredentials(accessKeyID: "STEADFASTTESTKEY", secretAccessKey: "steadfast/test+secret/0123456789abcdefghij")

    @Test func anExpiredPresignedURLIsRefusedAndAFreshOneServed() async throws {
        let server = try await SeaweedS3Server.start(accessKeyID: Self.credentials.accessKeyID, secretAccessKey: Self.credentials.secretAccessKey)
        do {
            try await Self.check(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func check(_ server: SeaweedS3Server) async throws {
        try await Self.createBucket("steadfast-expiry", on: server)
        let settings = try S3Settings(
            bucket: "steadfast-expiry", region: "us-east-1", endpoint: server.endpoint, pathStyle: true, credentials: Self.credentials,
            multipartThreshold: 16 << 20, partSize: 5 << 20, parallelism: 2,
            retry: S3RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(50)), abortRetry: .abort, requestTimeout: .seconds(60)
        )
        let storage = S3FileStorage(settings: settings, httpClient: S3Fixture.httpClient)
        let key = "invoices/2026/report é+1.pdf"
        let bytes = TestData.bytes(count: 40_000, seed: 31)
        // A header-signed upload the server verifies (a wrong signature would fail here).
        _ = try await storage.write(key: key, body: StorageByteStream.bytes(bytes), size: Int64(bytes.count), contentType: "application/pdf")

        try await withTemporaryDirectory { directory in
            // Fresh: served.
            let fresh = try await storage.downloadURL(key: key, expiresIn: .seconds(300))
            let served = try await Self.fetch(fresh, into: directory + "/fresh")
            #expect(served.status == 200, "\(served.body)")
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/fresh"))) == bytes)

            // Signed an hour ago for five minutes (the signer's clock injected): refused as expired.
            let hourAgo = S3FileStorage(settings: settings, httpClient: S3Fixture.httpClient, now: { Date().addingTimeInterval(-3600) })
            let stale = try await Self.fetch(try await hourAgo.downloadURL(key: key, expiresIn: .seconds(300)), into: directory + "/stale")
            #expect(stale.status == 403)
            #expect(stale.body.contains("Request has expired"), "\(stale.body)")

            // Valid for one second, used after two: refused as expired.
            let short = try await storage.downloadURL(key: key, expiresIn: .seconds(1))
            // Real time is the behaviour under test: SeaweedFS judges expiry by its own clock.
            // 1 s is the shortest X-Amz-Expires, and X-Amz-Date counts whole seconds.
            try await Task.sleep(for: .milliseconds(2_200))
            let late = try await Self.fetch(short, into: directory + "/late")
            #expect(late.status == 403)
            #expect(late.body.contains("Request has expired"), "\(late.body)")

            // The refusal is about time, not a bad signature: a tampered fresh URL fails differently.
            let tampered = URL(string: fresh.absoluteString.replacingOccurrences(of: "X-Amz-Expires=300", with: "X-Amz-Expires=301"))!
            let forged = try await Self.fetch(tampered, into: directory + "/forged")
            #expect(forged.status == 403)
            #expect(forged.body.contains("SignatureDoesNotMatch"), "\(forged.body)")
        }
    }

    /// GETs `url` with curl (a client that is not ours), writing the body to `path`.
    static func fetch(_ url: URL, into path: String) async throws -> (status: Int, body: String) {
        let result = try await ProcessRunner.run(["curl", "-sS", "-o", path, "-w", "%{http_code}", url.absoluteString], timeout: .seconds(60))
        try #require(result.status == 0, "curl failed: \(result.standardError)")
        let body = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return (Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, body)
    }

    /// Creates the bucket, retrying while SeaweedFS finishes starting (its S3 port opens before
    /// the filer behind it is ready).
    static func createBucket(_ bucket: String, on server: SeaweedS3Server) async throws {
        var last = "no answer"
        let created = await eventually(timeout: .seconds(60), interval: .milliseconds(250)) {
            guard let (status, body) = try? await SignedRequest.send(.PUT, "\(server.endpoint.absoluteString)/\(bucket)", credentials: credentials) else {
                return false
            }
            last = "\(status): \(body)"
            return status == 200
        }
        guard created else {
            throw SeaweedS3ServerError(message: "CreateBucket never succeeded within 60 s (last answer \(last)); server log:\n\(server.tailOfLog())")
        }
    }
}
