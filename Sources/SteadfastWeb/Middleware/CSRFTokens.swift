import Crypto
import Foundation
import Synchronization

/// Signed double-submit CSRF tokens, bound to the session, valid on every node without
/// server-side state.
///
/// The browser holds a random nonce in an HttpOnly cookie; forms carry
/// `HMAC-SHA256(cluster secret, SHA-256(session id) || nonce)` (no session: an empty digest).
/// A cross-site page can make the browser send the cookie (not on POST, thanks to SameSite=Lax)
/// but can neither read it nor compute the HMAC. An attacker who plants a nonce cookie from a
/// sibling domain and knows its token from their own visit still cannot use that token: it is
/// bound to the attacker's session, not the victim's.
public struct CSRFTokens: Sendable {
    let key: SymmetricKey
    /// Tokens already computed, by session and nonce: every HTML page needs its visitor's token,
    /// and a visitor keeps one nonce for the whole visit. Bounded; emptied when full.
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

    /// What the MAC covers: a fixed-length digest of the session id (so no session id and nonce
    /// pair can be made to read as another), then the nonce.
    static func message(nonce: String, session: String?) -> Data {
        var data = session.map { Data(SHA256.hash(data: Data($0.utf8))) } ?? Data(count: SHA256.byteCount)
        data.append(contentsOf: nonce.utf8)
        return data
    }

    /// The form token for a nonce and the visitor's session id (`nil`: not logged in).
    public func token(for nonce: String, session: String? = nil) -> String {
        let cacheKey = (session ?? "") + "|" + nonce
        if let known = recent.token(for: cacheKey) { return known }
        let token = Data(HMAC<SHA256>.authenticationCode(for: Self.message(nonce: nonce, session: session), using: key)).base64URLEncoded()
        recent.remember(token, for: cacheKey)
        return token
    }

    /// Whether `token` is the token for `nonce` and `session` (constant-time comparison).
    public func isValid(token: String, nonce: String, session: String? = nil) -> Bool {
        guard let mac = Data(base64URLEncoded: token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.message(nonce: nonce, session: session), using: key)
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
