import Foundation
import SteadfastDomain

/// Stripe's side of the ledger (migration 201): the customer each client maps to, and which
/// invoice each PaymentIntent pays.
public struct StripeRepository: Sendable {
    /// A PaymentIntent the portal created.
    public struct Intent: Sendable, Hashable {
        public enum Status: String, Sendable { case open, succeeded, failed, disputed }
        public var id: String
        public var invoiceID: UUID
        public var clientID: UUID
        public var amount: Money
        public var status: Status
        public var disputeID: String?

        public init(id: String, invoiceID: UUID, clientID: UUID, amount: Money, status: Status, disputeID: String? = nil) {
            self.id = id
            self.invoiceID = invoiceID
            self.clientID = clientID
            self.amount = amount
            self.status = status
            self.disputeID = disputeID
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func customer(clientID: UUID) async throws -> String? {
        try await db.first("SELECT customer_id FROM stripe_customers WHERE client_id = \(clientID)").map { try $0.string("customer_id") }
    }

    /// Stores the client's customer unless one is stored already; returns the stored one (the
    /// first writer wins on every node).
    public func saveCustomer(clientID: UUID, customerID: String, now: Date) async throws -> String {
        try await db.query("""
            INSERT INTO stripe_customers (client_id, customer_id, created_at) VALUES (\(clientID), \(customerID), \(now))
            ON CONFLICT (client_id) DO NOTHING
            """)
        guard let stored = try await customer(clientID: clientID) else { throw DatabaseError(.other, message: "the Stripe customer row vanished") }
        return stored
    }

    /// Records an intent unless it is known (a retried request creates the same intent).
    public func saveIntent(_ intent: Intent, now: Date) async throws {
        try await db.query("""
            INSERT INTO stripe_payment_intents (intent_id, invoice_id, client_id, amount, currency, status, dispute_id, created_at, updated_at)
            VALUES (\(intent.id), \(intent.invoiceID), \(intent.clientID), \(intent.amount.minorUnits), \(intent.amount.currency.code),
                    \(intent.status.rawValue), \(intent.disputeID), \(now), \(now))
            ON CONFLICT (intent_id) DO NOTHING
            """)
    }

    public func intent(id: String) async throws -> Intent? {
        try await db.first("SELECT * FROM stripe_payment_intents WHERE intent_id = \(id)").map(Self.intent)
    }

    public func intents(invoiceID: UUID) async throws -> [Intent] {
        try await db.query("SELECT * FROM stripe_payment_intents WHERE invoice_id = \(invoiceID) ORDER BY created_at").map(Self.intent)
    }

    static func intent(_ row: SQLRow) throws -> Intent {
        Intent(
            id: try row.string("intent_id"), invoiceID: try row.uuid("invoice_id"), clientID: try row.uuid("client_id"),
            amount: try row.money("amount", try row.currency()), status: try row.enumeration("status", as: Intent.Status.self),
            disputeID: try row.optionalString("dispute_id")
        )
    }

    /// Marks a PaymentIntent succeeded — unless it is disputed already: Stripe's webhooks come
    /// in any order, and a late `payment_intent.succeeded` (or the client's return) must not
    /// hide a dispute recorded before it.
    public func markSucceeded(id: String, now: Date) async throws {
        try await db.query("""
            UPDATE stripe_payment_intents SET status = \(Intent.Status.succeeded.rawValue), updated_at = \(now)
            WHERE intent_id = \(id) AND status <> \(Intent.Status.disputed.rawValue)
            """)
    }

    public func setStatus(id: String, _ status: Intent.Status, disputeID: String? = nil, now: Date) async throws {
        try await db.query("""
            UPDATE stripe_payment_intents SET status = \(status.rawValue), dispute_id = COALESCE(\(disputeID), dispute_id), updated_at = \(now)
            WHERE intent_id = \(id)
            """)
    }
}
