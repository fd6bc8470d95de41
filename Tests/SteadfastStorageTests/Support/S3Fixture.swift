import AsyncHTTPClient
import Foundation
import SteadfastSigV4
import SteadfastStorage
import SteadfastTestSupport
import Testing

/// A moto_server with one bucket, and S3 backends pointed at it.
struct S3Fixture {
    let server: MotoServer
    let bucket: String
    let credentials: AWSCredentials

    /// The HTTP client of every S3 backend in the tests (lives as long as the test process).
    static let httpClient = S3FileStorage.makeHTTPClient()

    static let anyCredentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    /// Settings for the bucket at `endpoint` (the server itself unless a proxy is in between).
    func settings(
        endpoint: URL? = nil, credentials: AWSCredentials? = nil, bucket: String? = nil,
        multipartThreshold: Int64 = 16 << 20, partSize: Int = 5 << 20, parallelism: Int = 3,
        retry: S3RetryPolicy = S3RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(20)),
        abortRetry: S3RetryPolicy = .abort
    ) throws -> S3Settings {
        try S3Settings(
            bucket: bucket ?? self.bucket, region: "us-east-1", endpoint: endpoint ?? server.endpoint, pathStyle: true,
            credentials: credentials ?? self.credentials, multipartThreshold: multipartThreshold, partSize: partSize,
            parallelism: parallelism, retry: retry, abortRetry: abortRetry, requestTimeout: .seconds(60)
        )
    }

    func storage(_ settings: S3Settings? = nil, now: @escaping @Sendable () -> Date = { Date() }) throws -> S3FileStorage {
        S3FileStorage(settings: try settings ?? self.settings(), httpClient: Self.httpClient, now: now)
    }

    /// Multipart uploads still open in the bucket (ListMultipartUploads), by key.
    func openMultipartUploads() async throws -> [String] {
        let (status, body) = try await SignedRequest.send(.GET, "\(server.endpoint.absoluteString)/\(bucket)?uploads", credentials: credentials)
        try #require(status == 200, "ListMultipartUploads answered \(status): \(body)")
        var keys: [String] = []
        var rest = body[...]
        while let start = rest.range(of: "<Upload>"), let end = rest.range(of: "</Upload>", range: start.upperBound..<rest.endIndex) {
            let upload = rest[start.upperBound..<end.lowerBound]
            if let keyStart = upload.range(of: "<Key>"), let keyEnd = upload.range(of: "</Key>") {
                keys.append(String(upload[keyStart.upperBound..<keyEnd.lowerBound]))
            }
            rest = rest[end.upperBound...]
        }
        return keys
    }

    /// Creates a bucket with a signed `PUT /<bucket>`.
    static func createBucket(_ bucket: String, on server: MotoServer, credentials: AWSCredentials) async throws {
        let (status, body) = try await SignedRequest.send(.PUT, "\(server.endpoint.absoluteString)/\(bucket)", credentials: credentials)
        try #require(status == 200, "CreateBucket answered \(status): \(body)")
    }
}

/// Runs `body` against a fresh default-mode moto_server (any credentials, unchecked
/// signatures) with bucket `steadfast-test`; the server is killed afterwards.
func withS3<T>(_ body: (S3Fixture) async throws -> T) async throws -> T {
    let server = try await MotoServer.start()
    defer { server.stop() }
    try await S3Fixture.createBucket("steadfast-test", on: server, credentials: S3Fixture.anyCredentials)
    return try await body(S3Fixture(server: server, bucket: "steadfast-test", credentials: S3Fixture.anyCredentials))
}

/// Runs `body` against a moto_server that checks signatures, with an IAM user allowed `s3:*`
/// whose key the fixture uses, and bucket `steadfast-auth`.
func withSignatureCheckingS3<T>(_ body: (S3Fixture) async throws -> T) async throws -> T {
    let server = try await MotoServer.start(checksSignatures: true)
    defer { server.stop() }
    let credentials = try await MotoIAM.createUserWithS3Access(on: server)
    try await S3Fixture.createBucket("steadfast-auth", on: server, credentials: credentials)
    return try await body(S3Fixture(server: server, bucket: "steadfast-auth", credentials: credentials))
}
