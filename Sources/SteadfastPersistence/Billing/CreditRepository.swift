import Foundation
import SteadfastDomain

/// The append-only credit ledger (`credit_entries`): a client's balance is the sum of their
/// entries in a currency. Entries are never updated or deleted.
public struct CreditRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func append(_ entry: CreditEntry, paymentID: UUID? = nil) async throws {
        try await db.query("""
            INSERT INTO credit_entries (id, client_id, amount, currency, kind, invoice_id, payment_id, description, created_at)
            VALUES (\(entry.id), \(entry.clientID), \(entry.amount.minorUnits), \(entry.amount.currency.code), \(entry.kind.rawValue), \(entry.invoiceID),
                    \(paymentID), \(entry.description), \(entry.createdAt))
            """)
    }

    public func balance(clientID: UUID, currency: Currency) async throws -> Money {
        let total = try await db.first("""
            SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM credit_entries WHERE client_id = \(clientID) AND currency = \(currency.code)
            """)?.int("total") ?? 0
        return Money(minorUnits: total, currency: currency)
    }

    /// What `paymentID` put on its client's credit as overpayment (the part above the balance due).
    public func overpayment(paymentID: UUID) async throws -> Int64 {
        try await db.first("""
            SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM credit_entries
            WHERE payment_id = \(paymentID) AND kind = \(CreditEntry.Kind.overpayment.rawValue)
            """)?.int("total") ?? 0
    }

    /// The client's entries, newest first.
    public func entries(clientID: UUID, limit: Int = 100, offset: Int = 0) async throws -> [CreditEntry] {
        try await db.query("""
            SELECT * FROM credit_entries WHERE client_id = \(clientID) ORDER BY created_at DESC, id LIMIT \(limit) OFFSET \(offset)
            """).map { row in
            CreditEntry(
                id: try row.uuid("id"), clientID: try row.uuid("client_id"), amount: try row.money("amount", try row.currency()),
                kind: try row.enumeration("kind", as: CreditEntry.Kind.self), invoiceID: try row.optionalUUID("invoice_id"),
                description: try row.string("description"), createdAt: try row.date("created_at")
            )
        }
    }
}
