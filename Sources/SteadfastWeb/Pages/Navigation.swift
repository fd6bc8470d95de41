import SteadfastDomain

/// The portal's navigation, as data: the layout renders it, marks the current page
/// (`aria-current="page"`, longest matching path prefix) and folds it on narrow screens.
/// A new page that deserves a menu entry adds one line here (docs/architecture.md,
/// "How to write a page").
enum Navigation {
    struct Entry: Sendable {
        let href: String
        let label: String
    }

    /// The top bar: what a visitor can reach, or the account links.
    static func main(for account: Account?) -> [Entry] {
        guard let account else {
            return [Entry(href: "/store", label: "Store"), Entry(href: "/login", label: "Log in"), Entry(href: "/register", label: "Register")]
        }
        if account.role == .staff { return [Entry(href: "/admin", label: "Admin"), Entry(href: "/account", label: "Account")] }
        guard ClientAccessPolicy.allows(account, .billing) else {
            return [Entry(href: "/clientarea", label: "Client area"), Entry(href: "/store", label: "Store"), Entry(href: "/account", label: "Account")]
        }
        return [Entry(href: "/clientarea", label: "Client area"), Entry(href: "/store", label: "Store"), Entry(href: "/cart", label: "Cart"), Entry(href: "/account", label: "Account")]
    }

    /// The section bar under it: the client area's or the admin area's pages.
    static func section(for account: Account?) -> [Entry] {
        guard let account else { return [] }
        if account.role == .staff { return admin }
        // A client's user sees only what it may use (docs/accounts.md, "Client users"); the
        // services refuse the rest anyway. Only the owner manages users.
        return client.filter { entry in clientSection[entry.href].map { ClientAccessPolicy.allows(account, $0) } ?? true }
            + (account.clientOwnerID == nil ? [Entry(href: "/account/users", label: "Users")] : [])
            + (ClientAccessPolicy.allows(account, .profile) ? [Entry(href: "/account/company", label: "Company")] : [])
    }

    /// The client permission each client-area entry needs.
    static let clientSection: [String: ClientPermission] = [
        "/clientarea/services": .services, "/clientarea/invoices": .billing, "/clientarea/credit": .billing,
        "/clientarea/billing-profile": .billing, "/clientarea/tickets": .support,
    ]

    static let client: [Entry] = [
        Entry(href: "/clientarea", label: "Overview"), Entry(href: "/clientarea/services", label: "Services"),
        Entry(href: "/clientarea/invoices", label: "Invoices"), Entry(href: "/clientarea/credit", label: "Credit"),
        Entry(href: "/clientarea/billing-profile", label: "Billing details"), Entry(href: "/clientarea/tickets", label: "Support"),
    ]

    static let admin: [Entry] = [
        Entry(href: "/admin", label: "Overview"), Entry(href: "/admin/clients", label: "Clients"), Entry(href: "/admin/products", label: "Products"),
        Entry(href: "/admin/orders", label: "Orders"), Entry(href: "/admin/services", label: "Services"), Entry(href: "/admin/invoices", label: "Invoices"),
        Entry(href: "/admin/payments", label: "Payments"), Entry(href: "/admin/tickets", label: "Support"), Entry(href: "/admin/content", label: "Content"),
        Entry(href: "/admin/support/departments", label: "Departments"), Entry(href: "/admin/mail", label: "Mail"),
        Entry(href: "/admin/jobs", label: "Jobs"), Entry(href: "/admin/api-tokens", label: "API tokens"), Entry(href: "/admin/audit", label: "Audit"), Entry(href: "/admin/staff", label: "Staff"),
    ]

    /// The entries as template values, the one that best matches `path` marked current.
    static func values(_ entries: [Entry], path: String) -> [[String: Any]] {
        let current = entries.filter { matches(path: path, href: $0.href) }.max { $0.href.count < $1.href.count }?.href
        return entries.map { ["href": $0.href, "label": $0.label, "current": $0.href == current] }
    }

    static func matches(path: String, href: String) -> Bool {
        path == href || path.hasPrefix(href.hasSuffix("/") ? href : href + "/")
    }
}
