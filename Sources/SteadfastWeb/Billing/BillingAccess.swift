import Foundation
import Hummingbird
import SteadfastDomain

/// Who may do what, checked at the start of every billing and admin route. Object-level checks happen in
/// the services: a client's look-ups always carry their own id, so anything else is a 404.
extension PortalRequestContext {
    /// The logged-in account (401 without one).
    func requireAccount() throws -> Account {
        guard let account else { throw HTTPError(.unauthorized, message: "log in first") }
        return account
    }

    /// A logged-in staff member or API token (401 without a log-in, 403 for clients).
    func requireStaff() throws -> Account {
        let account = try requireAccount()
        guard account.role == .staff else { throw HTTPError(.forbidden, message: "this is for staff only") }
        return account
    }

    /// For HTML admin pages: the logged-in staff member; visitors are sent to the log-in page
    /// (``RedirectToLogin``), clients get 403.
    func requireStaffPage() throws -> Account {
        guard let account else { throw RedirectToLogin() }
        guard account.role == .staff else { throw HTTPError(.forbidden, message: "The admin area is for staff only.") }
        return account
    }

    /// The UUID in path parameter `name`; a malformed id is a 404 like any unknown one.
    func id(_ name: String = "id", what: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw BillingError.notFound(what) }
        return id
    }

    /// `limit` (1-200, default 50) and `offset` from the query string (400 when malformed).
    func page(_ request: Request) throws -> PageRequest {
        try PageRequest(request)
    }
}

extension UUID {
    /// Lower-case text, the form every API answer and URL uses.
    var text: String { uuidString.lowercased() }
}
