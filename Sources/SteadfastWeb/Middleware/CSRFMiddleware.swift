import Foundation
import HTTPTypes
import Hummingbird

/// Protects every HTML form: makes sure the browser has a CSRF nonce cookie, puts the matching
/// token in the context for templates, and refuses (403) any state-changing request whose
/// `_csrf` form field (or `X-CSRF-Token` header) does not match the cookie.
public struct CSRFMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    public static let cookieName = "steadfast_csrf"
    static let headerName = HTTPField.Name("X-CSRF-Token")!

    let tokens: CSRFTokens

    public init(tokens: CSRFTokens) {
        self.tokens = tokens
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let existing = request.cookies[Self.cookieName].map { String($0.value) }.flatMap { CSRFTokens.isWellFormedNonce($0) ? $0 : nil }
        let nonce = existing ?? CSRFTokens.newNonce()
        context.csrfToken = tokens.token(for: nonce)

        if ![.get, .head, .options].contains(request.method) {
            var submitted = request.headers[Self.headerName]
            if submitted == nil, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
                let body = try await request.collectBody(upTo: context.maxUploadSize)
                struct Field: Decodable { let _csrf: String? }
                submitted = (try? URLEncodedFormDecoder().decode(Field.self, from: String(buffer: body)))?._csrf
            }
            guard let existing, let submitted, tokens.isValid(token: submitted, nonce: existing) else {
                throw HTTPError(.forbidden, message: "This form has expired or did not come from this site. Go back, reload the page and try again.")
            }
        }

        var response = try await next(request, context)
        if existing == nil {
            let cookie = Cookie(name: Self.cookieName, value: nonce, path: "/", httpOnly: true, sameSite: .lax)
            response.headers[values: .setCookie].append(cookie.description)
        }
        return response
    }
}
