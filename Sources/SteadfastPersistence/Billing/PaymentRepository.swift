import Foundation
import SteadfastDomain

/// Payments and refunds (`payments`). `payments_unique_key` makes each unique key — an
/// Idempotency-Key or a gateway transaction id — record money at most once.
public struct PaymentRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Inserts the payment; a used unique key raises ``DatabaseError`` `.uniqueViolation`.
    public func insert(_ payment: Payment) async throws {
        try await db.query("""
            INSERT INTO payments (id, invoice_id, client_id, kind, gateway, amount, currency, transaction_id, unique_key, refund_of, note, created_at, document_number)
            VALUES (\(payment.id), \(payment.invoiceID), \(payment.clientID), \(payment.kind.rawValue), \(payment.gateway), \(payment.amount.minorUnits),
                    \(payment.amount.currency.code), \(payment.transactionID), \(payment.uniqueKey), \(payment.refundOf), \(payment.note), \(payment.createdAt),
                    \(payment.documentNumber))
            """)
    }

    /// The payment; with `clientID`, only if it belongs to that client.
    public func find(id: UUID, clientID: UUID? = nil) async throws -> Payment? {
        let owner: SQL = clientID.map { id -> SQL in "AND client_id = \(id)" } ?? ""
        return try await db.first("SELECT * FROM payments WHERE id = \(id) \(owner)").map(Self.payment)
    }

    public func find(uniqueKey: String) async throws -> Payment? {
        try await db.first("SELECT * FROM payments WHERE unique_key = \(uniqueKey)").map(Self.payment)
    }

    /// Payments newest first: of one client, one invoice, or all.
    /// What the staff payment list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("created", "created_at", first: .desc), .init("client", "LOWER((SELECT a.name FROM accounts a WHERE a.id = payments.client_id))"),
        .init("invoice", "(SELECT i.number FROM invoices i WHERE i.id = payments.invoice_id)", nullable: true), .init("gateway", "gateway"),
        .init("kind", "kind"), .init("amount", "amount", first: .desc),
    ], default: ListSort("created", .desc), tieBreaker: "id")

    public func list(clientID: UUID? = nil, invoiceID: UUID? = nil, kind: Payment.Kind? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Payment] {
        var conditions: [SQL] = ["1 = 1"]
        if let clientID { conditions.append("client_id = \(clientID)") }
        if let invoiceID { conditions.append("invoice_id = \(invoiceID)") }
        if let kind { conditions.append("kind = \(kind.rawValue)") }
        return try await db.query("""
            SELECT * FROM payments WHERE \(SQL.joined(conditions, separator: " AND ")) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.payment)
    }

    /// How much of a payment has been refunded so far.
    public func refunded(paymentID: UUID) async throws -> Int64 {
        try await db.first("""
            SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM payments WHERE refund_of = \(paymentID) AND kind = 'refund'
            """)?.int("total") ?? 0
    }

    /// How many payments (not refunds) an invoice has, for tests and the admin area.
    public func count(invoiceID: UUID) async throws -> Int {
        Int(try await db.first("SELECT COUNT(*) AS n FROM payments WHERE invoice_id = \(invoiceID) AND kind = 'payment'")?.int("n") ?? 0)
    }

    static func payment(_ row: SQLRow) throws -> Payment {
        let currency = try row.currency()
        return Payment(
            id: try row.uuid("id"), invoiceID: try row.uuid("invoice_id"), clientID: try row.uuid("client_id"),
            kind: try row.enumeration("kind", as: Payment.Kind.self), gateway: try row.string("gateway"), amount: try row.money("amount", currency),
            transactionID: try row.optionalString("transaction_id"), uniqueKey: try row.string("unique_key"), refundOf: try row.optionalUUID("refund_of"),
            note: try row.string("note"), createdAt: try row.date("created_at"), documentNumber: try row.optionalString("document_number")
        )
    }
}
