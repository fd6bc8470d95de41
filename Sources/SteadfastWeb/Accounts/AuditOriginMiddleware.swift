import Hummingbird
import SteadfastDomain
import SteadfastServices

/// Binds ``AuditTrail/origin`` for the rest of the request: the logged-in account (or the API
/// token it came with), the client's IP, this node and the request id. Added after
/// authentication on the HTML routes and after the token check on `/api/v1`, so the services
/// record who made each change without every use case taking it as a parameter.
struct AuditOriginMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext

    let nodeID: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var actor = AuditActor.system
        if let account = context.account {
            actor = context.apiToken.map { .apiToken(id: $0.id, accountID: account.id) } ?? .account(account.id)
        }
        let origin = AuditOrigin(actor: actor, ip: context.clientIP, nodeID: nodeID, requestID: context.requestID)
        return try await AuditTrail.$origin.withValue(origin) { try await next(request, context) }
    }
}
