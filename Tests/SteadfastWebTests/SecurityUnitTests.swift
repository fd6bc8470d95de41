import Foundation
import SteadfastConfig
@testable import SteadfastWeb
import Testing

@Suite struct ForwardedHeadersTests {
    let trusting = ForwardedHeaders(trustedProxies: [try! IPNetwork("10.0.0.0/8"), try! IPNetwork("127.0.0.1")])

    @Test func headersFromAnUntrustedPeerAreIgnored() {
        let result = ForwardedHeaders(trustedProxies: []).resolve(peer: "198.51.100.4", forwardedFor: "1.2.3.4", forwardedProto: "https", directTLS: false)
        #expect(result.clientIP == "198.51.100.4")
        #expect(!result.isSecure)
    }

    @Test func aTrustedProxyNamesTheClientAndScheme() {
        let result = trusting.resolve(peer: "10.0.0.5", forwardedFor: "203.0.113.7", forwardedProto: "https", directTLS: false)
        #expect(result.clientIP == "203.0.113.7")
        #expect(result.isSecure)
    }

    @Test func forgedLeftmostEntriesAreSkipped() {
        // The client sent "X-Forwarded-For: 6.6.6.6"; our proxies appended the real hops.
        let result = trusting.resolve(peer: "127.0.0.1", forwardedFor: "6.6.6.6, 203.0.113.7, 10.0.0.9", forwardedProto: "http", directTLS: false)
        #expect(result.clientIP == "203.0.113.7")
        #expect(!result.isSecure)
    }

    @Test func garbageStopsTheWalk() {
        let result = trusting.resolve(peer: "10.0.0.1", forwardedFor: "not-an-ip", forwardedProto: nil, directTLS: false)
        #expect(result.clientIP == "10.0.0.1")
    }
}

@Suite struct CSRFTokenTests {
    @Test func tokensAreBoundToTheNonceAndTheSecret() {
        let tokens = CSRFTokens(secret: String(repeating: "s", count: 40))
        let nonce = CSRFTokens.newNonce()
        #expect(CSRFTokens.isWellFormedNonce(nonce))
        let token = tokens.token(for: nonce)
        #expect(tokens.isValid(token: token, nonce: nonce))
        #expect(!tokens.isValid(token: token, nonce: CSRFTokens.newNonce()))
        #expect(!tokens.isValid(token: token + "x", nonce: nonce))
        #expect(!tokens.isValid(token: "", nonce: nonce))
        #expect(!CSRFTokens(secret: String(repeating: "t", count: 40)).isValid(token: token, nonce: nonce))
        #expect(!CSRFTokens.isWellFormedNonce("short"))
        #expect(!CSRFTokens.isWellFormedNonce(String(repeating: "a", count: 42) + "="))
    }

    /// A token is bound to the session it was issued for: a token learnt with a planted nonce
    /// is useless with another session, and a logged-in visitor's token is not an anonymous one.
    @Test func tokensAreBoundToTheSession() {
        let tokens = CSRFTokens(secret: String(repeating: "s", count: 40))
        let nonce = CSRFTokens.newNonce()
        let attackers = tokens.token(for: nonce, session: "attacker-session")
        #expect(tokens.isValid(token: attackers, nonce: nonce, session: "attacker-session"))
        #expect(!tokens.isValid(token: attackers, nonce: nonce, session: "victim-session"))
        #expect(!tokens.isValid(token: attackers, nonce: nonce, session: nil))
        #expect(!tokens.isValid(token: tokens.token(for: nonce), nonce: nonce, session: "victim-session"))
        // The remembered table is keyed by session too.
        #expect(tokens.token(for: nonce, session: "victim-session") != attackers)
        #expect(tokens.token(for: nonce, session: "attacker-session") == attackers)
    }

    /// Remembered tokens are the tokens: the same as a fresh computation, for more nonces than
    /// the table holds, and never another nonce's.
    @Test func rememberedTokensEqualFreshOnes() {
        let secret = String(repeating: "s", count: 40)
        let tokens = CSRFTokens(secret: secret)
        let nonces = (0..<5_000).map { _ in CSRFTokens.newNonce() }
        let first = nonces.map { tokens.token(for: $0) }
        #expect(Set(first).count == nonces.count)
        for (nonce, token) in zip(nonces, first).suffix(300) {
            #expect(tokens.token(for: nonce) == token)
            #expect(CSRFTokens(secret: secret).token(for: nonce) == token)
            #expect(tokens.isValid(token: token, nonce: nonce))
        }
    }

    @Test func requestIDsAreSanitised() {
        #expect(RequestLoggingMiddleware.sanitizedRequestID("lb-1234.abc:9") == "lb-1234.abc:9")
        #expect(RequestLoggingMiddleware.sanitizedRequestID("bad id") == nil)
        #expect(RequestLoggingMiddleware.sanitizedRequestID("x\r\nSet-Cookie: a=b") == nil)
        #expect(RequestLoggingMiddleware.sanitizedRequestID(String(repeating: "a", count: 129)) == nil)
    }
}
