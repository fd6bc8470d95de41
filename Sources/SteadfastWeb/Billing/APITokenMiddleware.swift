import Hummingbird
import SteadfastServices

/// Authenticates `Authorization: Bearer sft_…` API tokens on `/api/v1`: a valid token acts as
/// the staff member who created it (instead of any session), with the token's scopes as its
/// permissions; a wrong, revoked, expired or orphaned token, or one whose owner is disabled, is
/// a 401. Requests without the header are left to the session.
struct APITokenMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext

    let tokens: APITokenService
    /// Counts each request against its token's limit (`security.rate_limit.api_token`).
    let limiter: RateLimiter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.authorization] != nil else { return try await next(request, context) }
        guard let token = Self.bearerToken(request), let authenticated = try await tokens.authenticate(token: token) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "the API token is not valid")
        }
        try await limiter?.hit(.apiToken, key: token)
        var context = context
        context.account = authenticated.account
        context.apiToken = authenticated
        context.logger[metadataKey: "steadfast.account.id"] = .string(authenticated.account.id.text)
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
}
