import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence
import SteadfastServices

/// The two overviews: the client area's (invoices due, active services, open tickets) and
/// the staff one (pending orders, overdue invoices and their sum, tickets waiting, failing jobs).
struct PortalPagesController: Sendable {
    let accounts: AccountService
    let billing: BillingWeb
    let figures: PortalFiguresRepository
    let jobs: JobStore
    let pages: PageRenderer
    let nodeID: String

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        router.get("clientarea", use: clientArea)
        // The staff overview: every member of staff, whatever their roles (log-in lands here).
        router.group("admin").add(middleware: RequirePermission.anyStaff).get(use: admin)
    }

    @Sendable func clientArea(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let account = context.account else { return redirect(to: "/login") }
        // A client's user sees its client's figures, only of what it may use (docs/accounts.md,
        // "Client users"); the lists themselves ask the services, which check again.
        let figures = try await figures.client(account.clientID)
        let (billingShown, servicesShown, supportShown) = (
            ClientAccessPolicy.allows(account, .billing), ClientAccessPolicy.allows(account, .services), ClientAccessPolicy.allows(account, .support)
        )
        let currency = billing.settings.currency
        let due = billingShown ? try await billing.invoices.invoices(for: account, status: .unpaid, limit: 10) : []
        let dueCount = billingShown ? figures.dueInvoices : 0
        let activeCount = servicesShown ? figures.activeServices : 0
        let openTickets = supportShown ? figures.openTickets : 0
        // "Welcome back" only for someone who has been here before: an account with history.
        let returning = (billingShown && figures.invoicesEver > 0) || activeCount > 0 || openTickets > 0
        var values: [String: Any] = [
            "name": account.name, "email": account.email.value,
            "since": account.createdAt.formatted(date: .long, time: .omitted),
            "returning": returning, "isNew": !returning,
            "dueCount": dueCount, "hasDue": dueCount > 0, "dueTotal": PageValues.money(billingShown ? figures.dueTotal : 0, currency),
            "activeCount": activeCount, "openTickets": openTickets,
            "showBilling": billingShown, "showServices": servicesShown, "showSupport": supportShown,
        ]
        if !due.isEmpty {
            values["due"] = ["invoices": due.map { PageValues.invoiceRow($0, base: "/clientarea/invoices") }] as [String: Any]
        }
        return pages.page("billing/overview", title: "Client area", values: values, context: context)
    }

    @Sendable func admin(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let today = BillingDate(billing.clock.now(), in: billing.settings.timeZone).iso
        let figures = try await figures.staff(today: today)
        let failing = try await jobs.jobs(now: billing.clock.now(), state: .failing, sort: nil, limit: 200, offset: 0).map(\.name)
        return pages.page("admin/overview", title: "Administration", values: [
            "name": account.name, "email": account.email.value, "node": nodeID,
            "clients": try await accounts.count(role: .client), "staff": try await accounts.count(role: .staff),
            "pendingOrders": figures.pendingOrders, "overdueCount": figures.overdueInvoices, "hasOverdue": figures.overdueInvoices > 0,
            "overdueTotal": PageValues.money(figures.overdueTotal, billing.settings.currency), "ticketsWaiting": figures.ticketsWaiting,
            "failingJobs": failing.count, "hasFailingJobs": !failing.isEmpty, "failingJobNames": failing,
        ], context: context)
    }
}
