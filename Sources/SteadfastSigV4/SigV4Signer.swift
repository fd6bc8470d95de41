import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4: `Authorization` headers and presigned
/// URLs, for S3 or any other service.
///
/// A value type: build one per (credentials, region, service) and share it freely. Every
/// signing method takes the signing `date`, so tests can pin AWS's published examples.
///
/// ```swift
/// let signer = SigV4Signer(credentials: creds, region: "eu-west-1", service: "s3")
/// let signed = try signer.signHeaders(method: "GET", url: url, payload: .empty)
/// // send signed.headers with the request
/// ```
public struct SigV4Signer: Sendable {
    /// The key that signs.
    public var credentials: AWSCredentials
    /// The region in the credential scope (`us-east-1`, `auto` for R2, ...).
    public var region: String
    /// The service in the credential scope (`s3`, `iam`, ...).
    public var service: String
    /// `true` for every service but S3: the path is normalised and encoded twice.
    public var doubleEncodesPath: Bool
    /// `true` for S3: an `x-amz-content-sha256` header carries the payload hash.
    public var sendsContentSHA256: Bool

    /// Header names never signed: hop-by-hop headers and ones proxies rewrite (as botocore).
    static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate",
        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
        "x-amzn-trace-id",
    ]

    /// Creates a signer; S3's rules (single path encoding, `x-amz-content-sha256`) apply when
    /// `service` is `s3`.
    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.doubleEncodesPath = service != "s3"
        self.sendsContentSHA256 = service == "s3"
    }

    /// The credential scope: `day/region/service/aws4_request`.
    public func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    /// Signs a request in its headers.
    ///
    /// - Parameters:
    ///   - url: the absolute URL as it will be sent (its path and query already percent-encoded
    ///     the SigV4 way, which ``SigV4URIEncoding`` does).
    ///   - headers: the headers the request will carry and that should be signed (`Host` is
    ///     added from the URL when absent; hop-by-hop headers are sent but not signed).
    ///   - payload: the body's hash, or `.unsigned`.
    ///   - date: the signing time; defaults to now.
    /// - Returns: the headers to send: the given ones plus `Host`, `X-Amz-Date`,
    ///   `X-Amz-Content-SHA256` (S3), `X-Amz-Security-Token` (temporary credentials) and
    ///   `Authorization`.
    public func signHeaders(
        method: String,
        url: URL,
        headers: [SigV4Header] = [],
        payload: SigV4Payload,
        date: Date = Date()
    ) throws -> SigV4SignedRequest {
        let when = SigV4Date(date)
        var all = headers.filter {
            let name = $0.name.lowercased()
            return name != "authorization" && name != "x-amz-date" && name != "x-amz-security-token"
                && name != "x-amz-content-sha256"
        }
        if !all.contains(where: { $0.name.lowercased() == "host" }) {
            all.insert(SigV4Header("Host", try Self.hostHeader(of: url)), at: 0)
        }
        all.append(SigV4Header("X-Amz-Date", when.timestamp))
        if sendsContentSHA256 {
            all.append(SigV4Header("X-Amz-Content-SHA256", payload.canonicalValue))
        }
        if let token = credentials.sessionToken {
            all.append(SigV4Header("X-Amz-Security-Token", token))
        }
        let signable = all.filter { !Self.unsignedHeaderNames.contains($0.name.lowercased()) }
        let canonical = SigV4CanonicalRequest(
            method: method,
            percentEncodedPath: Self.percentEncodedPath(of: url),
            percentEncodedQuery: url.query(percentEncoded: true),
            headers: signable,
            payload: payload,
            doubleEncodePath: doubleEncodesPath
        )
        let stringToSign = self.stringToSign(canonical, date: when)
        let signature = SigV4SigningKey(
            secretAccessKey: credentials.secretAccessKey, day: when.day, region: region, service: service
        ).signature(of: stringToSign)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(day: when.day)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        all.append(SigV4Header("Authorization", authorization))
        return SigV4SignedRequest(headers: all, canonicalRequest: canonical, stringToSign: stringToSign, signature: signature)
    }

    /// The string to sign for a canonical request at a given time.
    public func stringToSign(_ canonical: SigV4CanonicalRequest, date: SigV4Date) -> String {
        let hash = SigV4Hex.encode(SHA256.hash(data: Array(canonical.text.utf8)))
        return "AWS4-HMAC-SHA256\n\(date.timestamp)\n\(scope(day: date.day))\n\(hash)"
    }

    /// `host[:port]` as the `Host` header carries it (the port only when not the default).
    static func hostHeader(of url: URL) throws -> String {
        guard let host = url.host(percentEncoded: true), !host.isEmpty, url.scheme != nil else {
            throw SigV4Error(.invalidURL, "the URL to sign has no scheme or host")
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port = url.port else { return bracketed }
        let scheme = url.scheme?.lowercased()
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { return bracketed }
        return "\(bracketed):\(port)"
    }

    static func percentEncodedPath(of url: URL) -> String {
        let path = url.path(percentEncoded: true)
        return path.isEmpty ? "/" : path
    }
}

/// The result of ``SigV4Signer/signHeaders(method:url:headers:payload:date:)``: the headers to
/// send, and the intermediate texts for tests and debugging.
public struct SigV4SignedRequest: Sendable {
    /// Every header to send with the request, including `Authorization`.
    public let headers: [SigV4Header]
    /// The canonical request that was signed.
    public let canonicalRequest: SigV4CanonicalRequest
    /// The string that was signed.
    public let stringToSign: String
    /// The hex signature.
    public let signature: String

    /// The value of the header named `name` (any case), if present.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}
