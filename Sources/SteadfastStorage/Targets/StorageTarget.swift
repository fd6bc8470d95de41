import AsyncHTTPClient
import Foundation
import Logging
import SteadfastDomain
import SteadfastSigV4

/// One named place to keep files, as configured: a local/NAS directory or an S3 bucket.
///
/// Decodable from the portal's configuration (snake_case keys), e.g. in YAML:
/// ```yaml
/// - name: nas
///   kind: local
///   path: /mnt/nas/steadfast
///   download_base_url: https://portal.example.com/files   # optional, for download links
/// - name: s3-main
///   kind: s3
///   bucket: steadfast-files
///   region: eu-central-1
///   endpoint: https://s3.eu-central-1.amazonaws.com       # optional; MinIO: http://minio:9000
///   path_style: false                                      # default: true when endpoint is set
///   access_key_id: AKIA...          # optional: else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
///   secret_access_key: ...          #           / AWS_SESSION_TOKEN from the environment
///   multipart_threshold: 16 MiB     # default 16 MiB
///   part_size: 8 MiB                # default 8 MiB, at least 5 MiB
///   parallelism: 3                  # default 3 (memory ≈ parallelism × part_size)
///   key_prefix: prod/               # optional, prepended to every key of this target
/// ```
public struct StorageTarget: Decodable, Sendable, Hashable {
    /// The backend of a target.
    public enum Kind: String, Decodable, Sendable, Hashable {
        /// A directory (``LocalFileStorage``).
        case local
        /// An S3-compatible bucket (``S3FileStorage``).
        case s3
    }

    /// The target's name, used by type routes and by `storage migrate --to`.
    public var name: String
    /// Local directory or S3 bucket.
    public var kind: Kind
    /// Local: the directory (absolute).
    public var path: String?
    /// Local: where the portal serves signed download links (needs the link secret).
    public var downloadBaseURL: String?
    /// S3: the bucket.
    public var bucket: String?
    /// S3: the region (default `us-east-1`).
    public var region: String?
    /// S3: the endpoint URL, for S3-compatible stores.
    public var endpoint: String?
    /// S3: path-style addressing (default: true when `endpoint` is set, else false).
    public var pathStyle: Bool?
    /// S3: access key id (else from the environment).
    public var accessKeyID: String?
    /// S3: secret access key (else from the environment).
    public var secretAccessKey: String?
    /// S3: session token of temporary credentials.
    public var sessionToken: String?
    /// S3: objects above this size use multipart upload.
    public var multipartThreshold: ByteCount?
    /// S3: multipart part size.
    public var partSize: ByteCount?
    /// S3: parts uploaded at once.
    public var parallelism: Int?
    /// Prefix prepended to every key stored in this target (e.g. `prod/`); may be empty.
    public var keyPrefix: String?

    enum CodingKeys: String, CodingKey {
        case name, kind, path, bucket, region, endpoint, parallelism
        case downloadBaseURL = "download_base_url"
        case pathStyle = "path_style"
        case accessKeyID = "access_key_id"
        case secretAccessKey = "secret_access_key"
        case sessionToken = "session_token"
        case multipartThreshold = "multipart_threshold"
        case partSize = "part_size"
        case keyPrefix = "key_prefix"
    }

    /// Creates a target in code (tests, tools).
    public init(
        name: String, kind: Kind, path: String? = nil, downloadBaseURL: String? = nil, bucket: String? = nil,
        region: String? = nil, endpoint: String? = nil, pathStyle: Bool? = nil, accessKeyID: String? = nil,
        secretAccessKey: String? = nil, sessionToken: String? = nil, multipartThreshold: ByteCount? = nil,
        partSize: ByteCount? = nil, parallelism: Int? = nil, keyPrefix: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.path = path
        self.downloadBaseURL = downloadBaseURL
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.pathStyle = pathStyle
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.parallelism = parallelism
        self.keyPrefix = keyPrefix
    }

    /// The credentials: from the target if both parts are set, else from the environment.
    public func credentials(environment: [String: String]) throws -> AWSCredentials {
        if let id = accessKeyID, let secret = secretAccessKey, !id.isEmpty, !secret.isEmpty {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: sessionToken)
        }
        if accessKeyID != nil || secretAccessKey != nil {
            throw StorageError(.missingCredentials, "storage target '\(name)' sets only one of access_key_id and secret_access_key")
        }
        if let fromEnvironment = AWSCredentials(environment: environment) { return fromEnvironment }
        throw StorageError(.missingCredentials, "storage target '\(name)' has no credentials: set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    }

    /// The S3 settings of an `s3` target, checked.
    public func s3Settings(environment: [String: String]) throws -> S3Settings {
        guard kind == .s3 else { throw StorageError(.invalidConfiguration, "storage target '\(name)' is not an S3 target") }
        guard let bucket, !bucket.isEmpty else { throw StorageError(.invalidConfiguration, "S3 storage target '\(name)' has no bucket") }
        var endpointURL: URL?
        if let endpoint, !endpoint.isEmpty {
            guard let url = URL(string: endpoint) else {
                throw StorageError(.invalidConfiguration, "storage target '\(name)': '\(endpoint)' is not a URL")
            }
            endpointURL = url
        }
        do {
            return try S3Settings(
                bucket: bucket,
                region: region ?? "us-east-1",
                endpoint: endpointURL,
                pathStyle: pathStyle ?? (endpointURL != nil),
                credentials: try credentials(environment: environment),
                multipartThreshold: multipartThreshold?.bytes ?? 16 * 1024 * 1024,
                partSize: Int(partSize?.bytes ?? 8 * 1024 * 1024),
                parallelism: parallelism ?? 3
            )
        } catch let error as StorageError {
            throw StorageError(error.kind, "storage target '\(name)': \(error.message)")
        }
    }

    /// Builds the backend. `linkSecret` signs local download links; `httpClient` serves S3;
    /// `clock` (the node's) dates link expiries and S3 request signatures, and S3's retry
    /// back-off sleeps on it.
    public func makeStorage(
        environment: [String: String], linkSecret: String?, httpClient: HTTPClient, logger: Logger, clock: any WallClock
    ) throws -> any FileStorage {
        let now: @Sendable () -> Date = { clock.now() }
        switch kind {
        case .local:
            guard let path, !path.isEmpty else {
                throw StorageError(.invalidConfiguration, "local storage target '\(name)' has no path")
            }
            var links: LocalDownloadLinkSigner?
            if let downloadBaseURL {
                guard let secret = linkSecret else {
                    throw StorageError(.invalidConfiguration, "local storage target '\(name)' has a download_base_url but no download-link secret is configured")
                }
                guard let base = URL(string: downloadBaseURL) else {
                    throw StorageError(.invalidConfiguration, "storage target '\(name)': '\(downloadBaseURL)' is not a URL")
                }
                links = try LocalDownloadLinkSigner(secret: secret, baseURL: base)
            }
            do {
                return try LocalFileStorage(root: path, downloadLinks: links, now: now)
            } catch let error as StorageError {
                throw StorageError(error.kind, "storage target '\(name)': \(error.message)")
            }
        case .s3:
            var targetLogger = logger
            targetLogger[metadataKey: "steadfast.storage.target"] = "\(name)"
            var settings = try s3Settings(environment: environment)
            settings.retry.sleep = { try await clock.sleep(for: $0) }
            settings.abortRetry.sleep = settings.retry.sleep
            return S3FileStorage(settings: settings, httpClient: httpClient, logger: targetLogger, now: now)
        }
    }
}
