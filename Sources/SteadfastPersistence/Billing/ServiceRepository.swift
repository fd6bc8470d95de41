import Foundation
import SteadfastDomain

/// Clients' services (`services`).
public struct ServiceRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(_ service: ClientService, now: Date) async throws {
        try await db.query("""
            INSERT INTO services (id, client_id, order_id, product_id, description, cycle, status, currency, recurring, anchor_day,
                                  registration_date, next_due_date, suspension_reason, created_at, updated_at)
            VALUES (\(service.id), \(service.clientID), \(service.orderID), \(service.productID), \(service.description), \(service.cycle.rawValue),
                    \(service.status.rawValue), \(service.recurring.currency.code), \(service.recurring.minorUnits), \(service.anchorDay),
                    \(service.registrationDate.iso), \(service.nextDueDate?.iso), \(service.suspensionReason?.rawValue), \(now), \(now))
            """)
    }

    /// The service; with `clientID`, only if it belongs to that client.
    public func find(id: UUID, clientID: UUID? = nil, lock: Bool = false) async throws -> ClientService? {
        let owner: SQL = clientID.map { id -> SQL in "AND client_id = \(id)" } ?? ""
        let locking: SQL = lock ? SQL.forUpdate(db.dialect) : ""
        return try await db.first("SELECT * FROM services WHERE id = \(id) \(owner)\(locking)").map(Self.service)
    }

    /// What the staff service list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("created", "created_at", first: .desc), .init("client", "LOWER((SELECT a.name FROM accounts a WHERE a.id = services.client_id))"),
        .init("service", "LOWER(description)"), .init("status", "status"), .init("next_due", "next_due_date", nullable: true),
        .init("amount", "recurring", first: .desc),
    ], default: ListSort("created", .desc), tieBreaker: "id")

    public func list(clientID: UUID? = nil, status: ServiceStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [ClientService] {
        var conditions: [SQL] = ["1 = 1"]
        if let clientID { conditions.append("client_id = \(clientID)") }
        if let status { conditions.append("status = \(status.rawValue)") }
        return try await db.query("""
            SELECT * FROM services WHERE \(SQL.joined(conditions, separator: " AND ")) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.service)
    }

    public func services(orderID: UUID) async throws -> [ClientService] {
        try await db.query("SELECT * FROM services WHERE order_id = \(orderID) ORDER BY created_at, id").map(Self.service)
    }

    /// Billable services whose next period starts on or before `through` and has no renewal
    /// invoice yet: the renewal generator's work list.
    public func dueForRenewal(through: BillingDate, limit: Int) async throws -> [ClientService] {
        try await db.query("""
            SELECT s.* FROM services s
            WHERE s.status IN ('active', 'suspended') AND s.next_due_date IS NOT NULL AND s.next_due_date <= \(through.iso)
              AND NOT EXISTS (SELECT 1 FROM service_renewals r WHERE r.service_id = s.id AND r.period_start = s.next_due_date)
            ORDER BY s.next_due_date, s.id
            LIMIT \(limit)
            """).map(Self.service)
    }

    /// Active services with a payable invoice line whose invoice fell due on or before `dueOnOrBefore`.
    public func activeWithOverdueInvoices(dueOnOrBefore: BillingDate, limit: Int) async throws -> [ClientService] {
        try await db.query("""
            SELECT s.* FROM services s
            WHERE s.status = 'active' AND EXISTS (
                SELECT 1 FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
                WHERE ii.service_id = s.id AND i.status IN ('unpaid', 'collections') AND i.due_date <= \(dueOnOrBefore.iso))
            ORDER BY s.id
            LIMIT \(limit)
            """).map(Self.service)
    }

    /// Whether the service has a payable invoice that fell due on or before `dueOnOrBefore`.
    public func hasOverdueInvoices(serviceID: UUID, dueOnOrBefore: BillingDate) async throws -> Bool {
        try await db.first("""
            SELECT 1 AS found FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
            WHERE ii.service_id = \(serviceID) AND i.status IN ('unpaid', 'collections') AND i.due_date <= \(dueOnOrBefore.iso)
            LIMIT 1
            """) != nil
    }

    /// Services suspended for being overdue (candidates for lifting the suspension).
    public func suspendedForOverdue(limit: Int) async throws -> [ClientService] {
        try await db.query("""
            SELECT * FROM services WHERE status = 'suspended' AND suspension_reason = 'overdue' ORDER BY id LIMIT \(limit)
            """).map(Self.service)
    }

    /// Moves the service from `from` to `to`; `false` if it was no longer in `from`.
    public func transition(id: UUID, from: ServiceStatus, to: ServiceStatus, reason: ClientService.SuspensionReason?, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE services SET status = \(to.rawValue), suspension_reason = \(reason?.rawValue), updated_at = \(now)
            WHERE id = \(id) AND status = \(from.rawValue) RETURNING id
            """)).isEmpty
    }

    /// Moves the next due date from `from` to `to` (a paid period); `false` if it had moved already.
    public func advanceDueDate(id: UUID, from: BillingDate, to: BillingDate, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE services SET next_due_date = \(to.iso), updated_at = \(now) WHERE id = \(id) AND next_due_date = \(from.iso) RETURNING id
            """)).isEmpty
    }

    static func service(_ row: SQLRow) throws -> ClientService {
        let currency = try row.currency()
        return ClientService(
            id: try row.uuid("id"), clientID: try row.uuid("client_id"), orderID: try row.optionalUUID("order_id"), productID: try row.uuid("product_id"),
            description: try row.string("description"), cycle: try row.enumeration("cycle", as: BillingCycle.self),
            status: try row.enumeration("status", as: ServiceStatus.self), recurring: try row.money("recurring", currency),
            anchorDay: Int(try row.int("anchor_day")), registrationDate: try row.billingDate("registration_date"),
            nextDueDate: try row.optionalBillingDate("next_due_date"),
            suspensionReason: try row.optionalString("suspension_reason").flatMap(ClientService.SuspensionReason.init(rawValue:)),
            createdAt: try row.date("created_at")
        )
    }
}
