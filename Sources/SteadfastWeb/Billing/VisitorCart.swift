import Foundation
import Hummingbird
import HTTPTypes
import SteadfastDomain
import SteadfastServices

/// The cart of a visitor without an account: a random key in a cookie (`steadfast_cart`,
/// `__Host-` prefixed over HTTPS; HttpOnly, SameSite=Lax, 30 days), the items in the database
/// under the key's SHA-256 (`OrderService.addToVisitorCart`), so every node serves the same cart.
struct VisitorCart: Sendable {
    /// The cookie's name on the wire.
    let cookieName: String
    let secure: Bool

    /// The request's cart key, if it carries a well-formed one.
    func key(_ request: Request) -> String? {
        guard let value = request.cookies[cookieName].map({ String($0.value) }), value.utf8.count == 43,
              value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        return value
    }

    /// A new key: 32 random bytes, base64url without padding (43 characters).
    static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The `Set-Cookie` value that stores `key` (or, with nil, removes the cookie).
    func setCookie(_ key: String?) -> String {
        let lifetime = key == nil ? 0 : Int(OrderService.visitorCartLifetime)
        let cookie = Cookie(name: cookieName, value: key ?? "", maxAge: lifetime, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
        return cookie.description
    }
}

/// Carries a visitor's cart into the account once they are logged in (after log-in or
/// registration, on whichever node the next request lands): the items move into the client's
/// cart in one transaction and the cart cookie is removed.
struct VisitorCartMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext
    let billing: BillingWeb

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let account = context.account, account.role == .client, let key = billing.visitorCart.key(request) else {
            return try await next(request, context)
        }
        try await billing.orders.claimVisitorCart(cartKey: key, for: account)
        var response = try await next(request, context)
        response.headers[values: .setCookie].append(billing.visitorCart.setCookie(nil))
        return response
    }
}
