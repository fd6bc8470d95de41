import Foundation
import SteadfastSigV4

/// Everything ``S3FileStorage`` needs to reach one bucket, already resolved and checked
/// (``StorageTarget`` builds it from configuration).
public struct S3Settings: Sendable {
    /// The bucket name.
    public var bucket: String
    /// The signing region (`us-east-1`, `eu-central-1`, `auto` for R2...).
    public var region: String
    /// The service endpoint, e.g. `http://127.0.0.1:9000` for MinIO; nil for AWS
    /// (`https://s3.<region>.amazonaws.com`).
    public var endpoint: URL?
    /// `true`: `<endpoint>/<bucket>/<key>`; `false`: `<bucket>.<endpoint host>/<key>`.
    public var pathStyle: Bool
    /// The key that signs every request.
    public var credentials: AWSCredentials
    /// Objects larger than this many bytes are sent as multipart uploads.
    public var multipartThreshold: Int64
    /// Bytes per part (at least 5 MiB, S3's minimum); raised automatically so an object
    /// needs at most 10 000 parts.
    public var partSize: Int
    /// Parts uploaded at the same time. Memory used by one upload is at most about
    /// `parallelism × partSize`.
    public var parallelism: Int
    /// Retries of data requests.
    public var retry: S3RetryPolicy
    /// Retries of the abort of a failed multipart upload.
    public var abortRetry: S3RetryPolicy
    /// Longest wait for one request's response head (uploads included).
    public var requestTimeout: Duration

    /// Smallest part S3 accepts (except the last).
    public static let minimumPartSize = 5 * 1024 * 1024
    /// Most parts in one upload.
    public static let maximumPartCount = 10_000

    /// Creates settings and checks them (bucket name, sizes, parallelism, endpoint).
    public init(
        bucket: String,
        region: String,
        endpoint: URL? = nil,
        pathStyle: Bool = false,
        credentials: AWSCredentials,
        multipartThreshold: Int64 = 16 * 1024 * 1024,
        partSize: Int = 8 * 1024 * 1024,
        parallelism: Int = 3,
        retry: S3RetryPolicy = .standard,
        abortRetry: S3RetryPolicy = .abort,
        requestTimeout: Duration = .seconds(300)
    ) throws {
        func invalid(_ message: String) -> StorageError { StorageError(.invalidConfiguration, message) }
        let bucketCharacters = bucket.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." || $0 == "_"
        }
        guard (3...63).contains(bucket.count), bucketCharacters else {
            throw invalid("'\(bucket)' is not a valid bucket name (3-63 lowercase letters, digits, '-', '.')")
        }
        guard !region.isEmpty else { throw invalid("the S3 region of bucket '\(bucket)' is empty") }
        if let endpoint {
            guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  endpoint.host(percentEncoded: true)?.isEmpty == false else {
                throw invalid("the S3 endpoint '\(endpoint.absoluteString)' must be an http or https URL with a host")
            }
        }
        guard partSize >= Self.minimumPartSize else {
            throw invalid("the multipart part size must be at least 5 MiB (S3's minimum), not \(partSize) bytes")
        }
        // Objects below the threshold are held in memory whole (one signed PUT).
        guard (0...(1 << 30)).contains(multipartThreshold) else { throw invalid("the multipart threshold must be from 0 to 1 GiB") }
        guard (1...64).contains(parallelism) else {
            throw invalid("the multipart parallelism must be between 1 and 64, not \(parallelism)")
        }
        guard !credentials.accessKeyID.isEmpty, !credentials.secretAccessKey.isEmpty else {
            throw StorageError(.missingCredentials, "the credentials for bucket '\(bucket)' have an empty access key id or secret")
        }
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.credentials = credentials
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.parallelism = parallelism
        self.retry = retry
        self.abortRetry = abortRetry
        self.requestTimeout = requestTimeout
    }

    /// The endpoint actually used.
    var resolvedEndpoint: URL {
        if let endpoint { return endpoint }
        return URL(string: "https://s3.\(region).amazonaws.com")!
    }

    /// The part size for an object of `size` bytes: the configured one, or larger when
    /// 10 000 parts would not hold the object.
    func partSize(forObjectOfSize size: Int64) -> Int {
        let needed = (size + Int64(Self.maximumPartCount) - 1) / Int64(Self.maximumPartCount)
        return max(partSize, Int(needed))
    }
}
