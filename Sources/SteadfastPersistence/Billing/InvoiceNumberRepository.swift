/// Gap-free invoice numbers: one counter row per sequence key (`invoice_sequences`).
///
/// ``next(sequenceKey:)`` must run in the transaction that issues the invoice. It increments
/// the counter with `UPDATE … RETURNING`, which on PostgreSQL locks the row until that
/// transaction ends: a second node issuing at the same moment waits, then sees the new value.
/// If the issuing transaction rolls back, so does the increment — no number is ever skipped,
/// and `invoices_number_unique` guarantees none is used twice.
public struct InvoiceNumberRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// The next value of the counter (1 for a new key).
    public func next(sequenceKey: String) async throws -> Int64 {
        try await db.query("""
            INSERT INTO invoice_sequences (sequence_key, last_value) VALUES (\(sequenceKey), 0) ON CONFLICT (sequence_key) DO NOTHING
            """)
        guard let row = try await db.first("""
            UPDATE invoice_sequences SET last_value = last_value + 1 WHERE sequence_key = \(sequenceKey) RETURNING last_value
            """) else {
            throw DatabaseError(.other, message: "invoice sequence row vanished")
        }
        return try row.int("last_value")
    }

    /// The last value issued for a key (0 if none), for tests and the admin area.
    public func current(sequenceKey: String) async throws -> Int64 {
        try await db.first("SELECT last_value FROM invoice_sequences WHERE sequence_key = \(sequenceKey)")?.int("last_value") ?? 0
    }
}
