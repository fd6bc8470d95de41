import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SteadfastSigV4
import SteadfastDomain

/// File storage in an S3 bucket: AWS S3 or any S3-compatible store (MinIO, Ceph RGW, Wasabi,
/// Cloudflare R2, ...), over AsyncHTTPClient with ``SigV4Signer``.
///
/// - Objects up to ``S3Settings/multipartThreshold`` go in one signed `PUT` (the SHA-256 of the
///   body is both the returned checksum and the signed payload hash, and is stored as
///   `x-amz-meta-sha256`); larger ones as a multipart upload of ``S3Settings/partSize`` parts,
///   ``S3Settings/parallelism`` at a time, each part signed with its own SHA-256, the upload
///   aborted on any failure so no parts are left behind.
/// - Requests are retried with jittered back-off on 5xx, 429, timeouts and connection errors.
/// - S3 error codes become ``StorageError``s that say what to fix.
///
/// The caller owns `httpClient` (shut it down after the storage is no longer used); make it
/// with ``makeHTTPClient(connectTimeout:readTimeout:)`` so a refused connection fails at once
/// and is retried by this backend's policy rather than queued inside the client.
public struct S3FileStorage: FileStorage {
    /// The bucket and how to reach it.
    public let settings: S3Settings
    let httpClient: HTTPClient
    let signer: SigV4Signer
    let logger: Logger
    let now: @Sendable () -> Date

    /// Creates a backend. `now` is the signing clock (injectable for tests).
    public init(settings: S3Settings, httpClient: HTTPClient, logger: Logger = Logger(label: "steadfast.storage.s3"), now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings
        self.httpClient = httpClient
        self.signer = SigV4Signer(credentials: settings.credentials, region: settings.region, service: "s3")
        self.logger = logger
        self.now = now
    }

    /// An HTTP client suited to S3 backends: connections that cannot be established fail
    /// at once (the backend retries them with back-off), connecting gives up after
    /// `connectTimeout`, and a response that stalls for `readTimeout` fails. Shut it down
    /// (`try await client.shutdown()`) when the process stops using storage.
    public static func makeHTTPClient(connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: TimeAmount(connectTimeout), read: TimeAmount(readTimeout)
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public var displayName: String {
        "S3 bucket \(settings.bucket) at \(settings.resolvedEndpoint.host(percentEncoded: true) ?? "?")"
    }

    // MARK: - Write

    public func write<Body: AsyncSequence>(
        key: String, body: Body, size: Int64, contentType: String
    ) async throws -> StoredObject where Body.Element == ByteBuffer {
        try StorageKey.validate(key)
        guard size >= 0 else { throw StorageError(.sizeMismatch, "cannot store \(StorageKey.printable(key)) with a negative size (\(size))") }
        if size > settings.multipartThreshold {
            return try await writeMultipart(key: key, body: body, size: size, contentType: contentType)
        }
        // The declared size is the client's word: reserve at most 1 MiB up front and grow as
        // bytes arrive (a body that never comes holds no memory; the threshold is < 4 GiB).
        var buffer = ByteBufferAllocator().buffer(capacity: Int(min(size, 1 << 20)))
        for try await var chunk in body {
            guard Int64(buffer.readableBytes + chunk.readableBytes) <= size else {
                throw StorageError(.sizeMismatch, "the body for \(StorageKey.printable(key)) is longer than its declared \(size) bytes; nothing was stored")
            }
            buffer.writeBuffer(&chunk)
        }
        guard Int64(buffer.readableBytes) == size else {
            throw StorageError(.sizeMismatch, "the body for \(StorageKey.printable(key)) had \(buffer.readableBytes) bytes, not the declared \(size); nothing was stored")
        }
        let sha256 = SHA256Hex.of(buffer)
        _ = try await send(S3Request(
            method: .PUT, key: key,
            headers: [SigV4Header("Content-Type", contentType), SigV4Header("x-amz-meta-sha256", sha256)],
            body: buffer, payload: .sha256Hex(sha256), operation: "upload of \(StorageKey.printable(key))"
        ))
        return StoredObject(key: key, size: size, sha256: sha256, contentType: contentType)
    }

    // MARK: - Read

    public func read(key: String, range: ByteRange?) async throws -> StorageReadResult {
        try StorageKey.validate(key)
        var headers: [SigV4Header] = []
        if let range { headers.append(SigV4Header("Range", range.httpHeaderValue)) }
        let response = try await send(S3Request(method: .GET, key: key, headers: headers, operation: "download of \(StorageKey.printable(key))"))
        let contentLength = response.headers.first(name: "content-length").flatMap { Int64($0) }
        var object = Self.info(key: key, headers: response.headers)
        var served: (offset: Int64, count: Int64)?
        if response.status == .partialContent, let contentRange = response.headers.first(name: "content-range") {
            // "bytes 10-19/1234"
            let parts = contentRange.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "/" })
            // The server's word: a range that is backwards or too long to count is a broken answer.
            if parts.count == 4, let first = Int64(parts[1]), let last = Int64(parts[2]), first >= 0, last >= first, last < Int64.max {
                served = (first, last - first + 1)
                if let total = Int64(parts[3]) { object.size = total }
            }
        } else if let range, response.status == .ok {
            // A server that ignores Range sends everything: refuse rather than serve wrong bytes.
            throw StorageError(.serverError, "\(displayName) ignored the byte range \(range) for \(StorageKey.printable(key))")
        }
        let length = served?.count ?? contentLength ?? object.size
        return StorageReadResult(object: object, range: served, contentLength: length, body: StorageByteStream(response.body))
    }

    // MARK: - Delete, metadata, list

    public func delete(key: String) async throws {
        try StorageKey.validate(key)
        _ = try await send(S3Request(method: .DELETE, key: key, operation: "delete of \(StorageKey.printable(key))"), accepting: [404])
    }

    public func metadata(key: String) async throws -> StoredObjectInfo? {
        try StorageKey.validate(key)
        let request = S3Request(method: .HEAD, key: key, operation: "metadata of \(StorageKey.printable(key))")
        let response = try await send(request, accepting: [404])
        if response.status == .notFound {
            // HEAD says 404 both for a missing key and a missing bucket: tell them apart.
            try await healthCheck()
            return nil
        }
        return Self.info(key: key, headers: response.headers)
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) async throws -> StorageListPage {
        try StorageKey.validatePrefix(prefix)
        var query: [(String, String?)] = [("list-type", "2"), ("max-keys", String(max(1, min(maxKeys, 1000)))), ("prefix", prefix)]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send(S3Request(method: .GET, key: nil, query: query, operation: "listing of prefix '\(prefix)'"))
        let xml = await Self.collectText(response.body, limit: 16 * 1024 * 1024)
        var objects: [StoredObjectInfo] = []
        for entry in S3XML.elements("Contents", in: xml[...]) {
            guard let key = S3XML.value("Key", in: entry), let size = S3XML.value("Size", in: entry).flatMap({ Int64($0) }) else { continue }
            objects.append(StoredObjectInfo(key: key, size: size, lastModified: S3XML.value("LastModified", in: entry).flatMap(Self.parseISO8601)))
        }
        let truncated = S3XML.value("IsTruncated", in: xml[...]) == "true"
        return StorageListPage(objects: objects, continuationToken: truncated ? S3XML.value("NextContinuationToken", in: xml[...]) : nil)
    }

    // MARK: - Links and health

    public func downloadURL(key: String, expiresIn: Duration, downloadFilename: String?) async throws -> URL {
        try StorageKey.validate(key)
        let seconds = Int(expiresIn.components.seconds)
        guard (1...SigV4Signer.maximumPresignedLifetime).contains(seconds) else {
            throw StorageError(.invalidConfiguration, "a download link for S3 must live between 1 s and 7 days, not \(seconds) s")
        }
        var query: [(String, String?)] = []
        if let downloadFilename {
            let ascii = String(downloadFilename.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
            let disposition = "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(SigV4URIEncoding.encode(downloadFilename))"
            query.append(("response-content-disposition", disposition))
        }
        return try signer.presignURL(method: "GET", url: url(key: key, query: query), expiresInSeconds: seconds, date: now()).url
    }

    public func healthCheck() async throws {
        _ = try await send(S3Request(method: .HEAD, key: nil, operation: "check of the bucket"))
    }

    // MARK: - Helpers

    static func info(key: String, headers: HTTPHeaders) -> StoredObjectInfo {
        StoredObjectInfo(
            key: key,
            size: headers.first(name: "content-length").flatMap { Int64($0) } ?? 0,
            lastModified: headers.first(name: "last-modified").flatMap(parseHTTPDate),
            contentType: headers.first(name: "content-type"),
            sha256: headers.first(name: "x-amz-meta-sha256")
        )
    }

    static func parseISO8601(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
