import HTTPTypes
import Hummingbird

/// Requires `Content-Type: application/json` on API POSTs (415 otherwise).
///
/// This is the API's CSRF defence: a cross-site page can only send JSON with a CORS pre-flight,
/// which this API never grants, so a request carrying the session cookie with a JSON type came
/// from our own pages or a real API client. (PUT, PATCH and DELETE cannot be sent cross-site
/// without a pre-flight at all, so they need no such check.) Raw file uploads are admitted instead by a custom
/// header (`rawBodyHeader`), which likewise needs a pre-flight cross-site.
public struct JSONOnlyMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    let rawBodyHeader: HTTPField.Name?

    public init(rawBodyHeader: HTTPField.Name? = nil) {
        self.rawBodyHeader = rawBodyHeader
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            let rawBody = rawBodyHeader.map { request.headers[$0] != nil } ?? false
            guard type.hasPrefix("application/json") || rawBody else {
                throw HTTPError(.unsupportedMediaType, message: "send the request body as JSON with Content-Type: application/json")
            }
        }
        return try await next(request, context)
    }
}
