import Foundation
import SteadfastDomain

/// The automatic capture job's attempts (migration 240): one row per (invoice, attempt),
/// inserted — claimed — before Stripe is called.
public struct CaptureAttemptRepository: Sendable {
    public struct Attempt: Sendable, Hashable {
        public var invoiceID: UUID
        public var number: Int
        public var clientID: UUID
        public var paymentMethodID: String
        public var amount: Money
        public var status: CapturePlan.Status
        public var intentID: String?
        public var failure: String?
        public var startedAt: Date
        public var finishedAt: Date?

        public init(
            invoiceID: UUID, number: Int, clientID: UUID, paymentMethodID: String, amount: Money, status: CapturePlan.Status, intentID: String? = nil,
            failure: String? = nil, startedAt: Date, finishedAt: Date? = nil
        ) {
            self.invoiceID = invoiceID
            self.number = number
            self.clientID = clientID
            self.paymentMethodID = paymentMethodID
            self.amount = amount
            self.status = status
            self.intentID = intentID
            self.failure = failure
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }

        public var plan: CapturePlan.Attempt { CapturePlan.Attempt(number: number, status: status, finishedAt: finishedAt) }
    }

    /// An invoice the job looks at: payable, due on or before the cut-off, its client has a default card.
    public struct Candidate: Sendable, Hashable {
        public var invoiceID: UUID
        public var clientID: UUID
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Payable invoices with a balance, due on or before `dueOnOrBefore`, whose client has a
    /// default saved card; oldest due first.
    public func candidates(dueOnOrBefore: BillingDate, limit: Int) async throws -> [Candidate] {
        try await db.query("""
            SELECT i.id, i.client_id FROM invoices i
            WHERE i.status IN ('unpaid', 'collections') AND i.amount_paid < i.total AND i.due_date <= \(dueOnOrBefore.iso)
              AND EXISTS (SELECT 1 FROM stripe_payment_methods m WHERE m.client_id = i.client_id AND m.removed_at IS NULL AND m.is_default = \(true))
            ORDER BY i.due_date, i.id LIMIT \(limit)
            """).map { Candidate(invoiceID: try $0.uuid("id"), clientID: try $0.uuid("client_id")) }
    }

    public func attempts(invoiceID: UUID) async throws -> [Attempt] {
        try await db.query("SELECT * FROM billing_capture_attempts WHERE invoice_id = \(invoiceID) ORDER BY attempt").map(Self.attempt)
    }

    public func attempt(invoiceID: UUID, number: Int) async throws -> Attempt? {
        try await db.first("SELECT * FROM billing_capture_attempts WHERE invoice_id = \(invoiceID) AND attempt = \(Int64(number))").map(Self.attempt)
    }

    /// Claims attempt `number`: true when this call inserted it, false when it exists already.
    public func claim(_ attempt: Attempt) async throws -> Bool {
        let rows = try await db.query("""
            INSERT INTO billing_capture_attempts (invoice_id, attempt, client_id, payment_method_id, amount, currency, status, started_at)
            VALUES (\(attempt.invoiceID), \(Int64(attempt.number)), \(attempt.clientID), \(attempt.paymentMethodID), \(attempt.amount.minorUnits),
                    \(attempt.amount.currency.code), 'charging', \(attempt.startedAt))
            ON CONFLICT (invoice_id, attempt) DO NOTHING
            RETURNING attempt
            """)
        return !rows.isEmpty
    }

    /// Remembers the PaymentIntent Stripe created for a claimed attempt.
    public func setIntent(invoiceID: UUID, number: Int, intentID: String) async throws {
        try await db.query("""
            UPDATE billing_capture_attempts SET intent_id = \(intentID) WHERE invoice_id = \(invoiceID) AND attempt = \(Int64(number))
            """)
    }

    /// Ends a claimed attempt; true when this call ended it (it was still `charging`).
    public func finish(invoiceID: UUID, number: Int, status: CapturePlan.Status, intentID: String?, failure: String?, now: Date) async throws -> Bool {
        let rows = try await db.query("""
            UPDATE billing_capture_attempts SET status = \(status.rawValue), intent_id = COALESCE(\(intentID), intent_id),
                   failure = \(failure.map { String($0.prefix(500)) }), finished_at = \(now)
            WHERE invoice_id = \(invoiceID) AND attempt = \(Int64(number)) AND status = 'charging'
            RETURNING attempt
            """)
        return !rows.isEmpty
    }

    /// Every attempt, newest first (the staff view).
    public func recent(limit: Int, offset: Int) async throws -> [Attempt] {
        try await db.query("SELECT * FROM billing_capture_attempts ORDER BY started_at DESC, invoice_id, attempt LIMIT \(limit) OFFSET \(offset)").map(Self.attempt)
    }

    static func attempt(_ row: SQLRow) throws -> Attempt {
        Attempt(
            invoiceID: try row.uuid("invoice_id"), number: Int(try row.int("attempt")), clientID: try row.uuid("client_id"),
            paymentMethodID: try row.string("payment_method_id"), amount: try row.money("amount", try row.currency()),
            status: try row.enumeration("status", as: CapturePlan.Status.self), intentID: try row.optionalString("intent_id"),
            failure: try row.optionalString("failure"), startedAt: try row.date("started_at"), finishedAt: try row.optionalDate("finished_at")
        )
    }
}
