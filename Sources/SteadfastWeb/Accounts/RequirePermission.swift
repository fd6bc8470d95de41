import Hummingbird
import SteadfastDomain

/// The one authorisation check of the web layer: put it on a route group and every route in it
/// asks ``StaffPolicy`` before its handler runs, for pages and API alike.
///
/// ```swift
/// let refunds = api.group("admin").add(middleware: RequirePermission(.billingRefund))
/// let dashboard = html.group("admin").add(middleware: RequirePermission.anyStaff)
/// ```
///
/// Answers: nobody logged in — 401 under `/api/`, the log-in page elsewhere; a client or a
/// disabled account — 403 "for staff only"; staff without the permission — 403 naming it.
/// ``PortalRequestContext/account`` already carries the request's permissions (a session's
/// roles, or a token's scopes), read from the database on this request.
public struct RequirePermission: RouterMiddleware {
    public typealias Context = PortalRequestContext

    /// `nil`: any member of staff.
    public let permission: StaffPermission?

    public init(_ permission: StaffPermission?) {
        self.permission = permission
    }

    /// Any member of staff, whatever their roles (the staff dashboard, one's own API tokens).
    public static let anyStaff = RequirePermission(nil)

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try Self.check(permission, request: request, context: context)
        return try await next(request, context)
    }

    /// The check itself, for the rare handler whose permission depends on its input.
    public static func check(_ permission: StaffPermission?, request: Request, context: Context) throws {
        let decision = StaffPolicy.decide(context.account, permission)
        let api = ErrorMiddleware.wantsJSON(request)
        switch decision {
        case .allowed: return
        case .unauthenticated where !api: throw RedirectToLogin()
        case .notStaff where !api: throw HTTPError(.forbidden, message: "The admin area is for staff only.")
        default: throw StaffPolicy.Denied(decision: decision)
        }
    }
}
