import Foundation

/// The counts and sums the portal's overview pages show, and the names that make list rows
/// readable (a client's name, an invoice's number), each in one query.
public struct PortalFiguresRepository: Sendable {
    /// The staff overview: what needs someone's attention.
    public struct StaffFigures: Sendable, Equatable {
        public let pendingOrders: Int64
        public let overdueInvoices: Int64
        /// Balance due of the overdue invoices, in minor units of the billing currency.
        public let overdueTotal: Int64
        /// Tickets whose next move is staff's (open or with a client reply).
        public let ticketsWaiting: Int64
    }

    /// A client's overview.
    public struct ClientFigures: Sendable, Equatable {
        public let dueInvoices: Int64
        public let dueTotal: Int64
        public let activeServices: Int64
        public let openTickets: Int64
        public let invoicesEver: Int64
    }

    /// An invoice as a list row names it.
    public struct InvoiceLabel: Sendable, Equatable {
        public let number: String?
        public let clientID: UUID
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Figures as of `today` (`YYYY-MM-DD` in the billing time zone; due dates before it are overdue).
    public func staff(today: String) async throws -> StaffFigures {
        let row = try await db.first("""
            SELECT (SELECT COUNT(*) FROM orders WHERE status = 'pending') AS pending_orders,
                   (SELECT COUNT(*) FROM invoices WHERE status IN ('unpaid', 'collections') AND due_date < \(today)) AS overdue,
                   (SELECT CAST(COALESCE(SUM(total - amount_paid), 0) AS BIGINT) FROM invoices
                     WHERE status IN ('unpaid', 'collections') AND due_date < \(today)) AS overdue_total,
                   (SELECT COUNT(*) FROM tickets WHERE status IN ('open', 'customer_reply')) AS tickets_waiting
            """)
        return StaffFigures(
            pendingOrders: try row?.int("pending_orders") ?? 0, overdueInvoices: try row?.int("overdue") ?? 0,
            overdueTotal: try row?.int("overdue_total") ?? 0, ticketsWaiting: try row?.int("tickets_waiting") ?? 0
        )
    }

    public func client(_ clientID: UUID) async throws -> ClientFigures {
        let row = try await db.first("""
            SELECT (SELECT COUNT(*) FROM invoices WHERE client_id = \(clientID) AND status IN ('unpaid', 'collections')) AS due,
                   (SELECT CAST(COALESCE(SUM(total - amount_paid), 0) AS BIGINT) FROM invoices
                     WHERE client_id = \(clientID) AND status IN ('unpaid', 'collections')) AS due_total,
                   (SELECT COUNT(*) FROM services WHERE client_id = \(clientID) AND status = 'active') AS active,
                   (SELECT COUNT(*) FROM tickets WHERE client_id = \(clientID) AND status <> 'closed') AS open_tickets,
                   (SELECT COUNT(*) FROM invoices WHERE client_id = \(clientID) AND status <> 'draft') AS invoices_ever
            """)
        return ClientFigures(
            dueInvoices: try row?.int("due") ?? 0, dueTotal: try row?.int("due_total") ?? 0, activeServices: try row?.int("active") ?? 0,
            openTickets: try row?.int("open_tickets") ?? 0, invoicesEver: try row?.int("invoices_ever") ?? 0
        )
    }

    /// The names of the given accounts (at most one page of them).
    public func accountNames(_ ids: Set<UUID>) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        let list = SQL.joined(ids.sorted { $0.uuidString < $1.uuidString }.map { id -> SQL in "\(id)" }, separator: ", ")
        var names: [UUID: String] = [:]
        for row in try await db.query("SELECT id, name FROM accounts WHERE id IN (\(list))") {
            names[try row.uuid("id")] = try row.string("name")
        }
        return names
    }

    /// The numbers and clients of the given invoices.
    public func invoiceLabels(_ ids: Set<UUID>) async throws -> [UUID: InvoiceLabel] {
        guard !ids.isEmpty else { return [:] }
        let list = SQL.joined(ids.sorted { $0.uuidString < $1.uuidString }.map { id -> SQL in "\(id)" }, separator: ", ")
        var labels: [UUID: InvoiceLabel] = [:]
        for row in try await db.query("SELECT id, number, client_id FROM invoices WHERE id IN (\(list))") {
            labels[try row.uuid("id")] = InvoiceLabel(number: try row.optionalString("number"), clientID: try row.uuid("client_id"))
        }
        return labels
    }
}
