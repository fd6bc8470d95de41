import Crypto
import Foundation
import SteadfastSigV4

/// Makes and checks time-limited download links for files in a ``LocalFileStorage``, signed
/// with a secret shared by every node of the cluster (any node can check a link another made).
///
/// A link is `<baseURL>/<key>?expires=<unix seconds>[&filename=<name>]&signature=<hex>`, the
/// signature being HMAC-SHA256 over the key, the expiry and the file name. The portal serves
/// `<baseURL>/*` by calling ``verify(key:expires:filename:signature:now:)`` and then reading the
/// key from the storage.
public struct LocalDownloadLinkSigner: Sendable {
    private let secret: SymmetricKey
    /// Where the portal serves links, e.g. `https://portal.example.com/files`.
    public let baseURL: URL

    /// Creates a signer. The secret must be at least 32 bytes (e.g. 64 hex characters).
    public init(secret: String, baseURL: URL) throws {
        guard secret.utf8.count >= 32 else {
            throw StorageError(.invalidConfiguration, "the download-link secret must be at least 32 bytes long")
        }
        guard baseURL.scheme != nil, baseURL.host != nil else {
            throw StorageError(.invalidConfiguration, "the download-link base URL must be absolute (https://host/path)")
        }
        self.secret = SymmetricKey(data: Array(secret.utf8))
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = URL(string: base) ?? baseURL
    }

    /// The link for `key`, valid until `expiresAt`.
    public func url(for key: String, expiresAt: Date, downloadFilename: String? = nil) throws -> URL {
        try StorageKey.validate(key)
        let expires = String(Int64(expiresAt.timeIntervalSince1970.rounded(.up)))
        var query = "expires=\(expires)"
        if let downloadFilename {
            query += "&filename=" + SigV4URIEncoding.encode(downloadFilename)
        }
        query += "&signature=" + signature(key: key, expires: expires, filename: downloadFilename)
        let text = baseURL.absoluteString + "/" + SigV4URIEncoding.encode(key, keepSlash: true) + "?" + query
        guard let url = URL(string: text) else {
            throw StorageError(.invalidConfiguration, "cannot build a download link from the base URL \(baseURL)")
        }
        return url
    }

    /// Checks a link's parts (as decoded from the request path and query). Throws
    /// ``StorageError/Kind/invalidLink`` when the signature is wrong or the link has expired.
    public func verify(key: String, expires: String, filename: String?, signature: String, now: Date = Date()) throws {
        guard let expiry = Int64(expires) else {
            throw StorageError(.invalidLink, "the download link's expiry is not a number")
        }
        let expected = Array(self.signature(key: key, expires: expires, filename: filename).utf8)
        let given = Array(signature.lowercased().utf8)
        // Constant-time comparison of equal-length hex strings.
        var difference: UInt8 = expected.count == given.count ? 0 : 1
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        guard difference == 0 else {
            throw StorageError(.invalidLink, "the download link's signature is not valid")
        }
        guard Double(expiry) >= now.timeIntervalSince1970 else {
            throw StorageError(.invalidLink, "the download link has expired")
        }
    }

    private func signature(key: String, expires: String, filename: String?) -> String {
        let message = "steadfast-download-v1\n\(key)\n\(expires)\n\(filename ?? "")"
        return SigV4Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: secret))
    }
}
