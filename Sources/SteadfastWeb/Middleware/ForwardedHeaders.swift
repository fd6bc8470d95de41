import SteadfastConfig

/// Works out who the client is when requests may come through load balancers.
///
/// `X-Forwarded-For` and `X-Forwarded-Proto` are believed only when the TCP peer is in the
/// trusted-proxy list; then the client is the right-most address in `X-Forwarded-For` that is
/// not itself a trusted proxy (addresses further left could have been forged by the client).
public struct ForwardedHeaders: Sendable {
    public let trustedProxies: [IPNetwork]

    public init(trustedProxies: [IPNetwork]) {
        self.trustedProxies = trustedProxies
    }

    /// The client IP and whether the original request was HTTPS.
    public func resolve(peer: String?, forwardedFor: String?, forwardedProto: String?, directTLS: Bool) -> (clientIP: String, isSecure: Bool) {
        guard let peer else { return ("unknown", directTLS) }
        guard isTrusted(peer) else { return (peer, directTLS) }
        var client = peer
        if let forwardedFor {
            let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for hop in hops.reversed() {
                guard IPNetwork.parseAddress(hop) != nil else { break }
                client = hop
                if !isTrusted(hop) { break }
            }
        }
        var secure = directTLS
        if let proto = forwardedProto?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() {
            secure = proto == "https"
        }
        return (client, secure)
    }

    func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
