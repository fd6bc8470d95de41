import Hummingbird
import SteadfastServices

/// Authenticates `Authorization: Bearer sft_…` API tokens on `/api/v1`: a valid token acts as
/// the staff member who created it (instead of any session); a wrong, revoked or orphaned
/// token is a 401. Requests without the header are left to the session.
struct APITokenMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext

    let tokens: APITokenService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        guard header.lowercased().hasPrefix("bearer "), let account = try await tokens.authenticate(token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "the API token is not valid")
        }
        var context = context
        context.account = account
        context.authenticatedByToken = true
        context.logger[metadataKey: "steadfast.account.id"] = .string(account.id.text)
        return try await next(request, context)
    }
}
