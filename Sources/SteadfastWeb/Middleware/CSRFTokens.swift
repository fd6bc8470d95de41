import Crypto
import Foundation
import Synchronization

/// Signed double-submit CSRF tokens, valid on every node without server-side state.
///
/// The browser holds a random nonce in an HttpOnly cookie; forms carry
/// `HMAC-SHA256(cluster secret, nonce)`. A cross-site page can make the browser send the cookie
/// (not on POST, thanks to SameSite=Lax) but can neither read it nor compute the HMAC, and a
/// cookie planted from a sibling domain is useless without the secret.
public struct CSRFTokens: Sendable {
    let key: SymmetricKey
    /// Tokens already computed, by nonce: every HTML page needs its visitor's token, and a
    /// visitor keeps one nonce for the whole visit. Bounded; emptied when full.
    private let recent = RecentTokens()

    public init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data(("steadfast-csrf:" + secret).utf8)))
    }

    /// A new random nonce for the cookie (256 bits, base64url).
    public static func newNonce() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64URLEncoded()
    }

    /// Whether a cookie value looks like a nonce we issued (43 base64url characters).
    public static func isWellFormedNonce(_ nonce: String) -> Bool {
        nonce.utf8.count == 43 && nonce.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
        }
    }

    /// The form token for a nonce.
    public func token(for nonce: String) -> String {
        if let known = recent.token(for: nonce) { return known }
        let token = Data(HMAC<SHA256>.authenticationCode(for: Data(nonce.utf8), using: key)).base64URLEncoded()
        recent.remember(token, for: nonce)
        return token
    }

    /// Whether `token` is the token for `nonce` (constant-time comparison).
    public func isValid(token: String, nonce: String) -> Bool {
        guard let mac = Data(base64URLEncoded: token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(nonce.utf8), using: key)
    }
}

/// The bounded nonce → token table behind ``CSRFTokens/token(for:)``.
private final class RecentTokens: Sendable {
    private let tokens = Mutex<[String: String]>([:])
    private static let limit = 4096

    func token(for nonce: String) -> String? {
        tokens.withLock { $0[nonce] }
    }

    func remember(_ token: String, for nonce: String) {
        tokens.withLock { tokens in
            if tokens.count >= Self.limit { tokens.removeAll(keepingCapacity: true) }
            tokens[nonce] = token
        }
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5). Byte-wise: this runs for every page.
    func base64URLEncoded() -> String {
        var bytes = Array(base64EncodedString().utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "+") { bytes[index] = UInt8(ascii: "-") } else if bytes[index] == UInt8(ascii: "/") { bytes[index] = UInt8(ascii: "_") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
