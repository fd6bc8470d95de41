import Foundation
import SteadfastSigV4
import SteadfastStorage
import SteadfastTestSupport
import Testing

/// The header-signed operations against a moto_server that verifies every signature
/// (`INITIAL_NO_AUTH_ACTION_COUNT=0`, an IAM user with an access key): a wrong signature
/// would fail these tests.
@Suite(.serialized) struct S3SignatureCheckingTests {
    @Test func everyOperationIsAcceptedWithTheRightKey() async throws {
        try await withSignatureCheckingS3 { s3 in
            let storage = try s3.storage(s3.settings(multipartThreshold: 5 << 20, partSize: 5 << 20, parallelism: 2))
            try await storage.healthCheck()
            // moto re-encodes the URL with werkzeug's rules before checking a signature, so in
            // this mode it rejects every key or query value that needs percent-encoding (boto3's
            // own put_object("odd key ~ é.txt") and list_objects_v2(Prefix="signed/") fail
            // there too). Odd keys are covered by the default-mode tests and by botocore.
            let key = "signed/plain-key_1.txt"
            let bytes = TestData.bytes(count: 100_000, seed: 21)
            let stored = try await storage.write(key: key, body: StorageByteStream.bytes(bytes), size: Int64(bytes.count), contentType: "text/plain")
            #expect(stored.sha256 == TestData.sha256(bytes))
            #expect(try await TestData.collect(storage.read(key: key).body) == bytes)
            #expect(try await TestData.collect(storage.read(key: key, range: ByteRange(offset: 10, length: 10)).body) == Array(bytes[10..<20]))
            #expect(try await storage.metadata(key: key)?.size == 100_000)
            #expect(try await storage.listAll(prefix: "signed").map(\.key) == [key])

            let size: Int64 = 12 << 20
            let big = try await storage.write(key: "signed/multipart.bin", body: TestData.generatedStream(size: size, seed: 22), size: size, contentType: "x/y")
            #expect(big.sha256 == TestData.sha256OfGenerated(size: size, seed: 22))
            #expect(try await TestData.digest(storage.read(key: "signed/multipart.bin").body).sha256 == big.sha256)

            try await storage.delete(key: key)
            try await storage.delete(key: "signed/multipart.bin")
            #expect(try await storage.listAll(prefix: "signed").isEmpty)
            let probe = await StorageProbe.roundTrip(target: "s3", storage: storage)
            #expect(probe.isHealthy, "\(probe.line)")
        }
    }

    @Test func aWrongSecretIsAClearSignatureError() async throws {
        try await withSignatureCheckingS3 { s3 in
            let wrong = AWSCredentials(accessKeyID: s3.credentials.accessKeyID, secretAccessKey: "definitely-not-the-secret")
            let storage = try s3.storage(s3.settings(credentials: wrong))
            let error = await #expect(throws: StorageError.self) { try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
            #expect(error?.kind == .signatureMismatch)
            #expect(error?.message.contains("secret access key") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("definitely-not-the-secret") == false)
            let read = await #expect(throws: StorageError.self) { try await storage.read(key: "a") }
            #expect(read?.kind == .signatureMismatch)
            let check = await StorageProbe.healthCheck(target: "s3-main", storage: storage)
            #expect(!check.isHealthy)
            #expect(check.line.hasPrefix("s3-main       FAILED"))
        }
    }

    @Test func anUnknownAccessKeyIsAClearCredentialsError() async throws {
        try await withSignatureCheckingS3 { s3 in
            let unknown = AWSCredentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever")
            let storage = try s3.storage(s3.settings(credentials: unknown))
            let error = await #expect(throws: StorageError.self) { try await storage.write(key: "a", body: StorageByteStream.bytes([1]), size: 1, contentType: "x/y") }
            #expect(error?.kind == .invalidCredentials)
            #expect(error?.message.contains("does not know the access key id AKIAUNKNOWNKEY000000") == true, "\(error?.message ?? "")")
        }
    }
}
