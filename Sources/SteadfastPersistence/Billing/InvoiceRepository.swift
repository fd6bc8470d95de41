import Foundation
import SteadfastDomain

/// Invoices and their lines.
public struct InvoiceRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Inserts the invoice and its lines.
    public func insert(_ invoice: Invoice, now: Date) async throws {
        try await db.query("""
            INSERT INTO invoices (id, client_id, number, status, currency, issue_date, due_date, paid_at, subtotal, tax, total, amount_paid,
                                  tax_name, tax_rate, tax_mode, order_id, created_at, updated_at, amount_refunded, seller, buyer)
            VALUES (\(invoice.id), \(invoice.clientID), \(invoice.number), \(invoice.status.rawValue), \(invoice.currency.code), \(invoice.issueDate?.iso),
                    \(invoice.dueDate.iso), \(invoice.paidAt), \(invoice.subtotal.minorUnits), \(invoice.tax.minorUnits), \(invoice.total.minorUnits),
                    \(invoice.amountPaid.minorUnits), \(invoice.taxName), \(invoice.taxRate?.millipercent), \(invoice.taxMode.rawValue), \(invoice.orderID),
                    \(invoice.createdAt), \(now), \(invoice.amountRefunded.minorUnits), \(try Self.encode(invoice.seller)), \(try Self.encode(invoice.buyer)))
            """)
        try await insert(lines: invoice.lines, invoiceID: invoice.id)
    }

    /// Adds lines to an invoice (totals are the caller's business: see ``saveTotals(_:now:)``).
    public func insert(lines: [InvoiceLine], invoiceID: UUID, orderItemIDs: [UUID: UUID] = [:]) async throws {
        for line in lines {
            try await db.query("""
                INSERT INTO invoice_items (id, invoice_id, position, kind, description, service_id, order_item_id, net, tax, gross, taxable, period_start, period_end)
                VALUES (\(line.id), \(invoiceID), \(line.position), \(line.kind.rawValue), \(line.description), \(line.serviceID), \(orderItemIDs[line.id]),
                        \(line.amounts.net.minorUnits), \(line.amounts.tax.minorUnits), \(line.amounts.gross.minorUnits), \(line.taxable),
                        \(line.periodStart?.iso), \(line.periodEnd?.iso))
                """)
        }
    }

    /// The invoice with its lines; with `clientID`, only if it belongs to that client; with
    /// `lock`, its row stays locked until the transaction ends (PostgreSQL).
    /// `withLines: false` skips reading the lines (`lines` is then empty).
    public func find(id: UUID, clientID: UUID? = nil, lock: Bool = false, withLines: Bool = true) async throws -> Invoice? {
        let owner: SQL = clientID.map { id -> SQL in "AND client_id = \(id)" } ?? ""
        let locking: SQL = lock ? SQL.forUpdate(db.dialect) : ""
        guard let row = try await db.first("SELECT * FROM invoices WHERE id = \(id) \(owner)\(locking)") else { return nil }
        var invoice = try Self.invoice(row)
        if withLines { invoice.lines = try await lines(invoiceID: id, currency: invoice.currency) }
        return invoice
    }

    public func lines(invoiceID: UUID, currency: Currency) async throws -> [InvoiceLine] {
        try await db.query("SELECT * FROM invoice_items WHERE invoice_id = \(invoiceID) ORDER BY position").map { row in
            InvoiceLine(
                id: try row.uuid("id"), position: Int(try row.int("position")), kind: try row.enumeration("kind", as: InvoiceLine.Kind.self),
                description: try row.string("description"), serviceID: try row.optionalUUID("service_id"),
                amounts: LineAmounts(net: try row.money("net", currency), tax: try row.money("tax", currency), gross: try row.money("gross", currency)),
                taxable: try row.bool("taxable"), periodStart: try row.optionalBillingDate("period_start"), periodEnd: try row.optionalBillingDate("period_end")
            )
        }
    }

    /// Invoices newest first, without lines (for lists).
    /// What the staff invoice list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("created", "created_at", first: .desc), .init("number", "number", nullable: true), .init("issued", "issue_date", first: .desc, nullable: true),
        .init("client", "LOWER((SELECT a.name FROM accounts a WHERE a.id = invoices.client_id))"), .init("status", "status"),
        .init("due", "due_date", first: .desc), .init("total", "total", first: .desc), .init("balance", "total - amount_paid", first: .desc),
    ], default: ListSort("created", .desc), tieBreaker: "id")

    public func list(clientID: UUID? = nil, status: InvoiceStatus? = nil, includeDrafts: Bool = true, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Invoice] {
        var conditions: [SQL] = ["1 = 1"]
        if let clientID { conditions.append("client_id = \(clientID)") }
        if let status { conditions.append("status = \(status.rawValue)") }
        if !includeDrafts { conditions.append("status <> 'draft'") }
        return try await db.query("""
            SELECT * FROM invoices WHERE \(SQL.joined(conditions, separator: " AND ")) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.invoice)
    }

    /// Payable invoices that fell due on or before `dueOnOrBefore`, oldest first.
    public func payable(dueOnOrBefore: BillingDate, limit: Int) async throws -> [Invoice] {
        try await db.query("""
            SELECT * FROM invoices WHERE status IN ('unpaid', 'collections') AND due_date <= \(dueOnOrBefore.iso)
            ORDER BY due_date, id LIMIT \(limit)
            """).map(Self.invoice)
    }

    /// Payable invoices due on or before `dueOnOrBefore` that have no late fee yet.
    public func payableWithoutLateFee(dueOnOrBefore: BillingDate, limit: Int) async throws -> [Invoice] {
        try await db.query("""
            SELECT i.* FROM invoices i
            WHERE i.status IN ('unpaid', 'collections') AND i.due_date <= \(dueOnOrBefore.iso)
              AND NOT EXISTS (SELECT 1 FROM invoice_late_fees f WHERE f.invoice_id = i.id OR f.fee_invoice_id = i.id)
            ORDER BY i.due_date, i.id LIMIT \(limit)
            """).map(Self.invoice)
    }

    /// Payable invoices due in `(dueAfter, dueOnOrBefore]` without a reminder of `kind`.
    public func payableMissingReminder(kind: String, dueOnOrBefore: BillingDate, dueAfter: BillingDate?, limit: Int) async throws -> [Invoice] {
        let lower: SQL = dueAfter.map { date -> SQL in "AND i.due_date > \(date.iso)" } ?? ""
        return try await db.query("""
            SELECT i.* FROM invoices i
            WHERE i.status IN ('unpaid', 'collections') AND i.due_date <= \(dueOnOrBefore.iso) \(lower)
              AND NOT EXISTS (SELECT 1 FROM invoice_reminders r WHERE r.invoice_id = i.id AND r.kind = \(kind))
            ORDER BY i.due_date, i.id LIMIT \(limit)
            """).map(Self.invoice)
    }

    /// Draft or payable invoices with a renewal line for the service (without lines).
    public func openRenewalInvoices(serviceID: UUID) async throws -> [Invoice] {
        try await db.query("""
            SELECT i.* FROM invoices i
            WHERE i.status IN ('draft', 'unpaid', 'collections')
              AND EXISTS (SELECT 1 FROM invoice_items ii WHERE ii.invoice_id = i.id AND ii.service_id = \(serviceID) AND ii.kind = 'renewal')
            ORDER BY i.due_date, i.id
            """).map(Self.invoice)
    }

    /// A client's payable invoices, oldest due first.
    public func payable(clientID: UUID) async throws -> [Invoice] {
        try await db.query("""
            SELECT * FROM invoices WHERE client_id = \(clientID) AND status IN ('unpaid', 'collections') ORDER BY due_date, created_at, id
            """).map(Self.invoice)
    }

    /// Payable invoices of clients whose credit balance is positive.
    public func payableWithClientCredit(limit: Int) async throws -> [Invoice] {
        try await db.query("""
            SELECT i.* FROM invoices i
            WHERE i.status IN ('unpaid', 'collections') AND i.amount_paid < i.total
              AND (SELECT COALESCE(SUM(c.amount), 0) FROM credit_entries c WHERE c.client_id = i.client_id AND c.currency = i.currency) > 0
            ORDER BY i.due_date, i.id LIMIT \(limit)
            """).map(Self.invoice)
    }

    /// Writes the invoice's status, number, dates, totals and amount paid.
    public func save(_ invoice: Invoice, now: Date) async throws {
        try await db.query("""
            UPDATE invoices SET number = \(invoice.number), status = \(invoice.status.rawValue), issue_date = \(invoice.issueDate?.iso),
                due_date = \(invoice.dueDate.iso), paid_at = \(invoice.paidAt), subtotal = \(invoice.subtotal.minorUnits), tax = \(invoice.tax.minorUnits),
                total = \(invoice.total.minorUnits), amount_paid = \(invoice.amountPaid.minorUnits),
                amount_refunded = \(invoice.amountRefunded.minorUnits), seller = \(try Self.encode(invoice.seller)), buyer = \(try Self.encode(invoice.buyer)),
                updated_at = \(now)
            WHERE id = \(invoice.id)
            """)
    }

    /// Points the lines billed for an order item at the service created from it.
    public func linkService(orderItemID: UUID, serviceID: UUID) async throws {
        try await db.query("UPDATE invoice_items SET service_id = \(serviceID) WHERE order_item_id = \(orderItemID)")
    }

    /// The next free line position of an invoice.
    public func nextPosition(invoiceID: UUID) async throws -> Int {
        Int(try await db.first("SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) AS p FROM invoice_items WHERE invoice_id = \(invoiceID)")?.int("p") ?? 0) + 1
    }

    /// How many invoices have a number (for tests and statistics).
    public func issuedCount() async throws -> Int {
        Int(try await db.first("SELECT COUNT(*) AS n FROM invoices WHERE number IS NOT NULL")?.int("n") ?? 0)
    }

    static func invoice(_ row: SQLRow) throws -> Invoice {
        let currency = try row.currency()
        return Invoice(
            id: try row.uuid("id"), clientID: try row.uuid("client_id"), number: try row.optionalString("number"),
            status: try row.enumeration("status", as: InvoiceStatus.self), currency: currency, issueDate: try row.optionalBillingDate("issue_date"),
            dueDate: try row.billingDate("due_date"), paidAt: try row.optionalDate("paid_at"), subtotal: try row.money("subtotal", currency),
            tax: try row.money("tax", currency), total: try row.money("total", currency), amountPaid: try row.money("amount_paid", currency),
            taxName: try row.optionalString("tax_name"), taxRate: try row.optionalInt("tax_rate").map(TaxRate.init(millipercent:)),
            taxMode: try row.enumeration("tax_mode", as: TaxMode.self), orderID: try row.optionalUUID("order_id"), lines: [],
            createdAt: try row.date("created_at"), amountRefunded: try row.money("amount_refunded", currency),
            seller: try decode(row.optionalString("seller")), buyer: try decode(row.optionalString("buyer"))
        )
    }

    /// A party as stored in `invoices.seller`/`buyer` (JSON, keys sorted).
    static func encode(_ party: InvoiceParty?) throws -> String? {
        guard let party else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(party), as: UTF8.self)
    }

    static func decode(_ text: String?) throws -> InvoiceParty? {
        guard let text else { return nil }
        return try JSONDecoder().decode(InvoiceParty.self, from: Data(text.utf8))
    }
}
