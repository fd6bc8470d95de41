import Crypto
import Foundation

/// What the signature says about the request body (the last line of the canonical request).
public enum SigV4Payload: Sendable, Hashable {
    /// No body: the SHA-256 of the empty string.
    case empty
    /// The body's SHA-256, lowercase hex (the caller hashed it, e.g. while buffering a part).
    case sha256Hex(String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (S3 only).
    case unsigned

    /// The SHA-256 of the given bytes.
    public static func bytes(_ bytes: some DataProtocol) -> SigV4Payload {
        .sha256Hex(SigV4Hex.encode(SHA256.hash(data: bytes)))
    }

    /// The value of the canonical request's last line and of `x-amz-content-sha256`.
    public var canonicalValue: String {
        switch self {
        case .empty: return SigV4Payload.emptySHA256
        case .sha256Hex(let hex): return hex
        case .unsigned: return "UNSIGNED-PAYLOAD"
        }
    }

    /// SHA-256 of zero bytes, lowercase hex.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
