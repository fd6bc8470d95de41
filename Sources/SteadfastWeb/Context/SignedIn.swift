import Hummingbird
import SteadfastDomain

/// The one way a handler asks for the logged-in account. Checks of what that account may do
/// are its route group's middleware (``RequirePermission``, ``RequireClientPermission``) and
/// the services; these only say "log in first", each in its own answer.
extension PortalRequestContext {
    /// For API routes: the logged-in account, or 401. Behind ``RequirePermission``, the staff
    /// member it admitted.
    func requireAccount() throws -> Account {
        guard let account else { throw HTTPError(.unauthorized, message: "log in first") }
        return account
    }

    /// For pages: the logged-in account, or ``RedirectToLogin`` (a 303 to `/login`).
    func requirePageAccount() throws -> Account {
        guard let account else { throw RedirectToLogin() }
        return account
    }
}
