import Hummingbird
import SteadfastSessions

/// Placed just outside hummingbird-auth's `SessionMiddleware`: installs the per-request
/// ``SessionLoad`` record, so a session that could not be loaded because the database was
/// unavailable ends in a 503 (raised by ``AuthenticationMiddleware``) instead of the client
/// silently looking logged out, and the account read with the session needs no query of its own.
public struct SessionLoadGuardMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await SessionLoad.withRecord { try await next(request, context) }
    }
}
