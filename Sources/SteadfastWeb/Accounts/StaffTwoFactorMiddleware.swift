import Hummingbird
import SteadfastDomain

/// `accounts.require_2fa_for_staff`: a staff member logged in without two-factor log-in on
/// reaches no staff page or staff API until they enrol. Pages send them to `/account/2fa`;
/// the API answers 403 naming what to do. One check for every staff route, before routing.
struct StaffTwoFactorMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext
    let required: Bool

    static func isStaffPath(_ path: String) -> Bool {
        path == "/admin" || path.hasPrefix("/admin/") || path.hasPrefix("/api/v1/admin/")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if required, let account = context.account, account.role == .staff, !account.twoFactorEnabled, Self.isStaffPath(request.uri.path) {
            if request.uri.path.hasPrefix("/api/") {
                throw HTTPError(.forbidden, message: "staff must turn on two-factor log-in first (POST /api/v1/me/2fa/totp)")
            }
            return redirect(to: "/account/2fa")
        }
        return try await next(request, context)
    }
}
