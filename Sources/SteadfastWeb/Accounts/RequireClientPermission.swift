import Hummingbird
import SteadfastDomain

/// The client area's early gate (docs/accounts.md, "Client users"): which client permission
/// each client route needs, by path, asked of ``ClientAccessPolicy`` before the handler reads
/// its input — so a client's user without the permission gets 403 naming it, whatever it sent.
/// It only ever refuses a client's user: the client account itself, staff and visitors pass
/// (visitors' carts and the staff routes have their own rules). The services called next ask
/// the same policy again; they are the boundary, this makes the answer uniform.
///
/// A new client route adds its prefix here; `ClientUsersLiveTests` walks every route of the
/// router as a user without permissions, so a route that answers such a user with anything but
/// 403 (and is not one every user may use) fails it.
struct RequireClientPermission: RouterMiddleware {
    typealias Context = PortalRequestContext

    /// Path prefixes (whole segments) and what they need.
    static let table: [(prefix: String, permission: ClientPermission)] = [
        ("/api/v1/cart", .billing), ("/api/v1/orders", .billing), ("/api/v1/invoices", .billing), ("/api/v1/payments", .billing),
        ("/api/v1/checkouts", .billing), ("/api/v1/credit", .billing), ("/api/v1/billing-profile", .billing), ("/api/v1/me/payment-methods", .billing),
        ("/cart", .billing), ("/clientarea/orders", .billing), ("/clientarea/invoices", .billing), ("/clientarea/checkouts", .billing),
        ("/clientarea/credit", .billing), ("/clientarea/billing-profile", .billing),
        ("/api/v1/services", .services), ("/clientarea/services", .services),
        ("/api/v1/tickets", .support), ("/api/v1/support", .support), ("/clientarea/tickets", .support),
        ("/api/v1/me/client", .profile), ("/account/company", .profile),
    ]

    /// Managing a client's users: the client account itself only (``ClientAccessPolicy/requireOwner(_:)``).
    static let ownerOnly = ["/api/v1/me/users", "/account/users"]

    /// The permission a path needs, if it is a client route.
    static func permission(for path: String) -> ClientPermission? {
        table.first { path == $0.prefix || path.hasPrefix($0.prefix + "/") }?.permission
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let account = context.account, account.clientOwnerID != nil {
            let path = request.uri.path
            if Self.ownerOnly.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { try ClientAccessPolicy.requireOwner(account) }
            if let permission = Self.permission(for: path) { try ClientAccessPolicy.client(of: account, for: permission) }
        }
        return try await next(request, context)
    }
}
