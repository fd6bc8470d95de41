import Foundation
import SteadfastDomain

/// Pending card-gateway checkouts (`gateway_checkouts`): created when a client starts paying,
/// completed by the gateway's signed webhook.
public struct CheckoutRepository: Sendable {
    /// A checkout and where it stands.
    public struct Checkout: Sendable, Hashable {
        public enum Status: String, Sendable, Codable { case pending, completed, failed }
        public var id: UUID
        public var invoiceID: UUID
        public var clientID: UUID
        public var gateway: String
        public var amount: Money
        public var status: Status
        public var paymentID: UUID?
        public var createdAt: Date

        public init(id: UUID, invoiceID: UUID, clientID: UUID, gateway: String, amount: Money, status: Status, paymentID: UUID?, createdAt: Date) {
            self.id = id
            self.invoiceID = invoiceID
            self.clientID = clientID
            self.gateway = gateway
            self.amount = amount
            self.status = status
            self.paymentID = paymentID
            self.createdAt = createdAt
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(_ checkout: Checkout) async throws {
        try await db.query("""
            INSERT INTO gateway_checkouts (id, invoice_id, client_id, gateway, amount, currency, status, payment_id, created_at, updated_at)
            VALUES (\(checkout.id), \(checkout.invoiceID), \(checkout.clientID), \(checkout.gateway), \(checkout.amount.minorUnits),
                    \(checkout.amount.currency.code), \(checkout.status.rawValue), \(checkout.paymentID), \(checkout.createdAt), \(checkout.createdAt))
            """)
    }

    public func find(id: UUID, clientID: UUID? = nil) async throws -> Checkout? {
        let owner: SQL = clientID.map { id -> SQL in "AND client_id = \(id)" } ?? ""
        return try await db.first("SELECT * FROM gateway_checkouts WHERE id = \(id) \(owner)").map { row in
            Checkout(
                id: try row.uuid("id"), invoiceID: try row.uuid("invoice_id"), clientID: try row.uuid("client_id"), gateway: try row.string("gateway"),
                amount: try row.money("amount", try row.currency()), status: try row.enumeration("status", as: Checkout.Status.self),
                paymentID: try row.optionalUUID("payment_id"), createdAt: try row.date("created_at")
            )
        }
    }

    /// Moves a pending checkout to `status`; `false` if it was not pending any more.
    public func finish(id: UUID, status: Checkout.Status, paymentID: UUID?, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE gateway_checkouts SET status = \(status.rawValue), payment_id = \(paymentID), updated_at = \(now)
            WHERE id = \(id) AND status = 'pending' RETURNING id
            """)).isEmpty
    }
}
