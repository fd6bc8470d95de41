import Foundation

extension SigV4Signer {
    /// Longest lifetime AWS accepts for a presigned URL: 7 days.
    public static let maximumPresignedLifetime: Int = 604_800

    /// Makes a presigned URL: anyone holding it may perform `method` on `url` until it expires.
    ///
    /// - Parameters:
    ///   - url: the absolute URL, path and query percent-encoded the SigV4 way; existing query
    ///     parameters (e.g. `response-content-disposition`) are kept and signed.
    ///   - headers: headers the eventual request must carry and that are signed (`host` is
    ///     always signed).
    ///   - expiresInSeconds: lifetime, 1 ... 604 800 seconds.
    ///   - date: the signing time; the URL is valid from `date` to `date + expiresInSeconds`.
    public func presignURL(
        method: String,
        url: URL,
        headers: [SigV4Header] = [],
        expiresInSeconds: Int,
        date: Date = Date()
    ) throws -> SigV4PresignedURL {
        guard (1...Self.maximumPresignedLifetime).contains(expiresInSeconds) else {
            throw SigV4Error(.invalidExpiry, "a presigned URL must live between 1 s and 7 days, not \(expiresInSeconds) s")
        }
        let when = SigV4Date(date)
        var signable = headers.filter { !Self.unsignedHeaderNames.contains($0.name.lowercased()) }
        if !signable.contains(where: { $0.name.lowercased() == "host" }) {
            signable.insert(SigV4Header("host", try Self.hostHeader(of: url)), at: 0)
        }
        let signedNames = SigV4CanonicalRequest.canonicalHeaders(signable).names
        var authParameters: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(day: when.day))"),
            ("X-Amz-Date", when.timestamp),
            ("X-Amz-Expires", String(expiresInSeconds)),
        ]
        if let token = credentials.sessionToken {
            authParameters.append(("X-Amz-Security-Token", token))
        }
        authParameters.append(("X-Amz-SignedHeaders", signedNames))
        let authQuery = authParameters
            .map { "\(SigV4URIEncoding.encode($0.0))=\(SigV4URIEncoding.encode($0.1))" }
            .joined(separator: "&")
        let existing = url.query(percentEncoded: true).flatMap { $0.isEmpty ? nil : $0 }
        let query = existing.map { "\($0)&\(authQuery)" } ?? authQuery
        let canonical = SigV4CanonicalRequest(
            method: method,
            percentEncodedPath: Self.percentEncodedPath(of: url),
            percentEncodedQuery: query,
            headers: signable,
            payload: sendsContentSHA256 ? .unsigned : .empty,
            doubleEncodePath: doubleEncodesPath
        )
        let stringToSign = self.stringToSign(canonical, date: when)
        let signature = SigV4SigningKey(
            secretAccessKey: credentials.secretAccessKey, day: when.day, region: region, service: service
        ).signature(of: stringToSign)
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw SigV4Error(.invalidURL, "the URL to presign cannot be split into components")
        }
        components.percentEncodedQuery = query + "&X-Amz-Signature=" + signature
        components.fragment = nil
        guard let signedURL = components.url else {
            throw SigV4Error(.invalidURL, "the presigned URL cannot be assembled")
        }
        return SigV4PresignedURL(url: signedURL, canonicalRequest: canonical, stringToSign: stringToSign, signature: signature)
    }
}

/// The result of ``SigV4Signer/presignURL(method:url:headers:expiresInSeconds:date:)``.
public struct SigV4PresignedURL: Sendable {
    /// The URL to hand out.
    public let url: URL
    /// The canonical request that was signed.
    public let canonicalRequest: SigV4CanonicalRequest
    /// The string that was signed.
    public let stringToSign: String
    /// The hex signature (also the `X-Amz-Signature` parameter).
    public let signature: String
}
