import Hummingbird

/// Requires `Content-Type: application/json` on state-changing API requests (415 otherwise).
///
/// This is the API's CSRF defence: a cross-site page can only send JSON with a CORS pre-flight,
/// which this API never grants, so a request carrying the session cookie with a JSON type came
/// from our own pages or a real API client.
public struct JSONOnlyMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if ![.get, .head, .options].contains(request.method) {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/json") else {
                throw HTTPError(.unsupportedMediaType, message: "send the request body as JSON with Content-Type: application/json")
            }
        }
        return try await next(request, context)
    }
}
