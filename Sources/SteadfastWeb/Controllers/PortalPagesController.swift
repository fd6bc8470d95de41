import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// The client area dashboard and the staff-only admin area.
struct PortalPagesController: Sendable {
    let accounts: AccountService
    let pages: PageRenderer
    let nodeID: String

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        router.get("clientarea", use: clientArea)
        router.get("admin", use: admin)
    }

    @Sendable func clientArea(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let account = context.account else { return redirect(to: "/login") }
        return pages.page("clientarea", title: "Client area", values: [
            "name": account.name,
            "email": account.email.value,
            "role": account.role.rawValue,
            "since": account.createdAt.formatted(date: .long, time: .omitted),
        ], context: context)
    }

    @Sendable func admin(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let account = context.account else { return redirect(to: "/login") }
        guard account.role == .staff else {
            throw HTTPError(.forbidden, message: "The admin area is for staff only.")
        }
        return pages.page("admin", title: "Administration", values: [
            "name": account.name,
            "email": account.email.value,
            "node": nodeID,
            "clients": try await accounts.count(role: .client),
            "staff": try await accounts.count(role: .staff),
        ], context: context)
    }
}
