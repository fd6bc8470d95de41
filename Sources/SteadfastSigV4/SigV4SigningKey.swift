import Crypto

/// The signing key of Signature Version 4: HMAC-SHA256 chained over the day, the region, the
/// service and `aws4_request`, starting from `"AWS4" + secret`.
public struct SigV4SigningKey: Sendable {
    let key: SymmetricKey

    /// Derives the key for one day, region and service.
    public init(secretAccessKey: String, day: String, region: String, service: String) {
        var key = SymmetricKey(data: Array(("AWS4" + secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        self.key = key
    }

    /// The hex signature of `stringToSign`.
    public func signature(of stringToSign: String) -> String {
        SigV4Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }
}
