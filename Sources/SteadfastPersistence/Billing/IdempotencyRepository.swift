import Foundation

/// Stored answers to requests made with an idempotency key (`idempotency_records`).
///
/// The record is inserted in the same transaction as the effect it describes, so either both
/// exist or neither does; a retried request finds the record and gets the original answer.
public struct IdempotencyRepository: Sendable {
    /// A stored answer.
    public struct Record: Sendable, Equatable {
        /// A digest of what was asked, to refuse a key reused for a different request.
        public let fingerprint: String
        /// The answer, as JSON.
        public let response: String
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func find(key: String) async throws -> Record? {
        try await db.first("SELECT fingerprint, response FROM idempotency_records WHERE record_key = \(key)").map {
            Record(fingerprint: try $0.string("fingerprint"), response: try $0.string("response"))
        }
    }

    /// Stores the answer; a key already stored raises ``DatabaseError`` `.uniqueViolation`.
    public func insert(key: String, fingerprint: String, response: String, now: Date) async throws {
        try await db.query("""
            INSERT INTO idempotency_records (record_key, fingerprint, response, created_at) VALUES (\(key), \(fingerprint), \(response), \(now))
            """)
    }
}
