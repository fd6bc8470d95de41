import Crypto
import Foundation

/// The secret in a reset or verification link: 256 random bits as 64 hex characters. Only its
/// SHA-256 is stored, so a leaked table cannot be turned into working links.
struct LinkToken: Sendable {
    let text: String
    let hash: String

    static func generate() -> LinkToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = APITokenService.hex(bytes)
        return LinkToken(text: text, hash: hash(of: text))
    }

    /// The stored hash of a token as typed (any text: a malformed token simply matches nothing).
    static func hash(of text: String) -> String {
        APITokenService.hex(SHA256.hash(data: Data(text.utf8)))
    }
}
