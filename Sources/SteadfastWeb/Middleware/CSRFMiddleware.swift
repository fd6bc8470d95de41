import Foundation
import HTTPTypes
import Hummingbird

/// Protects every HTML form: makes sure the browser has a CSRF nonce cookie, puts the matching
/// token in the context for templates, and refuses (403) any state-changing request whose
/// `_csrf` form field (or `X-CSRF-Token` header) does not match the cookie and the session.
///
/// A logged-in visitor's token is bound to their session (``CSRFTokens``): a token learnt
/// together with a nonce cookie planted in a victim's browser is useless with the victim's
/// session. Visitors without a session (log-in and registration forms) get tokens bound to the
/// nonce alone.
public struct CSRFMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    static let headerName = HTTPField.Name("X-CSRF-Token")!

    let tokens: CSRFTokens
    /// The nonce cookie's name (`steadfast_csrf`, `__Host-` prefixed over HTTPS).
    let cookieName: String
    /// The session cookie's name, whose value the token is bound to.
    let sessionCookieName: String

    /// The cookie names come from the configuration (`NodeConfiguration.csrfCookie`, `.sessionCookie`).
    public init(tokens: CSRFTokens, cookieName: String, sessionCookieName: String) {
        self.tokens = tokens
        self.cookieName = cookieName
        self.sessionCookieName = sessionCookieName
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let existing = request.cookies[cookieName].map { String($0.value) }.flatMap { CSRFTokens.isWellFormedNonce($0) ? $0 : nil }
        let nonce = existing ?? CSRFTokens.newNonce()
        // Only a session that authenticated binds: a stale or forged session cookie is no session.
        let session = context.account == nil ? nil : request.cookies[sessionCookieName].map { String($0.value) }
        context.csrfToken = tokens.token(for: nonce, session: session)

        if ![.get, .head, .options].contains(request.method) {
            var submitted = request.headers[Self.headerName]
            if submitted == nil, FormFields.isURLEncoded(request.headers) {
                // Collected into the request, so the handler reads the same body again.
                let body = try await request.collectBody(upTo: context.maxUploadSize)
                submitted = (try? FormFields(urlEncoded: String(buffer: body)))?.values["_csrf"]
            } else if submitted == nil, let boundary = MultipartForm.boundary(of: request.headers[.contentType]) {
                // Forms with files (the support desk's): the `_csrf` part of the multipart body.
                submitted = MultipartForm(body: try await request.collectBody(upTo: context.maxUploadSize), boundary: boundary).fields["_csrf"]
            }
            guard let existing, let submitted, tokens.isValid(token: submitted, nonce: existing, session: session) else {
                throw HTTPError(.forbidden, message: "This form has expired or did not come from this site. Go back, reload the page and try again.")
            }
        }

        var response = try await next(request, context)
        if existing == nil {
            let cookie = Cookie(name: cookieName, value: nonce, path: "/", httpOnly: true, sameSite: .lax)
            response.headers[values: .setCookie].append(cookie.description)
        }
        return response
    }
}
