import Hummingbird
import SteadfastDomain

/// The client area's early gate (docs/accounts.md, "Client users"), the client-side twin of
/// ``RequirePermission``: put it on a route group and every route in it asks
/// ``ClientAccessPolicy`` before the handler reads its input — so a client's user without the
/// permission gets 403 naming it, whatever it sent.
///
/// ```swift
/// let billing = api.group().add(middleware: RequireClientPermission(.billing))
/// let users = html.group("account/users").add(middleware: RequireClientPermission.ownerOnly)
/// ```
///
/// It only ever refuses a client's user: the client account itself, staff and visitors pass
/// (visitors' carts and the staff routes have their own rules). The services called next ask
/// the same policy again; they are the boundary, this makes the answer uniform.
/// `ClientUsersLiveTests` walks every route of the router as a user without permissions, so a
/// route that answers such a user with anything but 403 (and is not one every user may use)
/// fails it.
struct RequireClientPermission: RouterMiddleware {
    typealias Context = PortalRequestContext

    /// `nil`: the client account itself only (``ClientAccessPolicy/requireOwner(_:)``).
    let permission: ClientPermission?

    init(_ permission: ClientPermission) {
        self.permission = permission
    }

    private init(ownerOnly: Void) {
        self.permission = nil
    }

    /// Managing a client's users: the client account itself only.
    static let ownerOnly = RequireClientPermission(ownerOnly: ())

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let account = context.account, account.clientOwnerID != nil {
            if let permission { _ = try ClientAccessPolicy.client(of: account, for: permission) } else { try ClientAccessPolicy.requireOwner(account) }
        }
        return try await next(request, context)
    }
}
