import Foundation

/// The access rules of the admin API, as pure functions (tested without sockets):
/// - with a token configured, every request but `GET /healthz` needs `Authorization: Bearer <token>`
///   (compared in constant time) or gets **401**;
/// - without a token, the `Host` a request names must be an IP address or `localhost`, so a web
///   page that rebinds its own DNS name to 127.0.0.1 cannot reach the API from a browser (**403**);
/// - a request that may change state (any method but GET and HEAD) must say
///   `Content-Type: application/json` or gets **415**: a browser sends such a request cross-origin
///   only after a CORS preflight, which the admin API never grants, so a page cannot change the
///   balancer's state with a "simple" `text/plain` or form `fetch`.
enum AdminAccess {
    /// Whether `authorization` (the request's `Authorization` values) carries `token` as a bearer
    /// token. Exactly one `Authorization` field; the scheme is case-insensitive.
    static func isAuthorized(_ authorization: [String], token: String) -> Bool {
        guard authorization.count == 1 else { return false }
        let value = authorization[0].utf8
        let scheme = "bearer ".utf8
        guard value.count > scheme.count,
            zip(value.prefix(scheme.count), scheme).allSatisfy({ lowercased($0) == $1 })
        else { return false }
        let given = value.dropFirst(scheme.count).drop(while: { $0 == UInt8(ascii: " ") })
        return constantTimeEquals(Array(given), Array(token.utf8))
    }

    /// Compares `given` with `expected` in time that depends only on `expected`'s length, so the
    /// time of an answer tells nothing about how much of a guessed token was right.
    static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            // Every byte of `expected` is compared, with a byte of `given` or 0 past its end.
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }

    /// Whether `contentType` (the request's `Content-Type` values) is exactly one JSON media type,
    /// parameters such as `charset` allowed.
    static func isJSON(_ contentType: [String]) -> Bool {
        guard contentType.count == 1 else { return false }
        let mediaType = contentType[0].split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// Whether `host` (the request's `Host` values) names the balancer by address rather than by a
    /// DNS name: an IPv4 or bracketed IPv6 literal, or `localhost`, with or without a port.
    static func isAddressHost(_ host: [String]) -> Bool {
        guard host.count == 1 else { return false }
        var name = Substring(host[0].trimmingCharacters(in: .whitespaces).lowercased())
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let literal = name[name.index(after: name.startIndex)..<close]
            return !literal.isEmpty && literal.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        if let colon = name.lastIndex(of: ":") {
            guard name[name.index(after: colon)...].allSatisfy(\.isASCIIDigit) else { return false }
            name = name[..<colon]
        }
        if name == "localhost" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
