import Foundation
import SteadfastDomain

/// Clients' saved Stripe cards (migration 240). Every look-up carries the client's id.
public struct SavedCardRepository: Sendable {
    public struct Card: Sendable, Hashable {
        public var id: String
        public var clientID: UUID
        public var brand: String
        public var last4: String
        public var expMonth: Int
        public var expYear: Int
        public var isDefault: Bool
        public var createdAt: Date

        public init(id: String, clientID: UUID, brand: String, last4: String, expMonth: Int, expYear: Int, isDefault: Bool, createdAt: Date) {
            self.id = id
            self.clientID = clientID
            self.brand = brand
            self.last4 = last4
            self.expMonth = expMonth
            self.expYear = expYear
            self.isDefault = isDefault
            self.createdAt = createdAt
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// The client's cards (not removed), the default first, then newest first.
    public func list(clientID: UUID, limit: Int, offset: Int) async throws -> [Card] {
        try await db.query("""
            SELECT * FROM stripe_payment_methods WHERE client_id = \(clientID) AND removed_at IS NULL
            ORDER BY is_default DESC, created_at DESC, payment_method_id LIMIT \(limit) OFFSET \(offset)
            """).map(Self.card)
    }

    public func find(id: String, clientID: UUID) async throws -> Card? {
        try await db.first("""
            SELECT * FROM stripe_payment_methods WHERE payment_method_id = \(id) AND client_id = \(clientID) AND removed_at IS NULL
            """).map(Self.card)
    }

    /// The card the capture job charges: the client's default.
    public func defaultCard(clientID: UUID) async throws -> Card? {
        try await db.first("""
            SELECT * FROM stripe_payment_methods WHERE client_id = \(clientID) AND removed_at IS NULL AND is_default = \(true)
            """).map(Self.card)
    }

    /// Saves a card once (a repeated save of the same method changes nothing) and makes it the
    /// client's default. Returns the stored card; `nil` when the method belongs to another
    /// client (never moved between clients).
    public func save(_ card: Card, now: Date) async throws -> Card? {
        try await db.query("UPDATE stripe_payment_methods SET is_default = \(false) WHERE client_id = \(card.clientID) AND payment_method_id <> \(card.id)")
        try await db.query("""
            INSERT INTO stripe_payment_methods (payment_method_id, client_id, brand, last4, exp_month, exp_year, is_default, created_at)
            VALUES (\(card.id), \(card.clientID), \(card.brand), \(card.last4), \(Int64(card.expMonth)), \(Int64(card.expYear)), \(true), \(now))
            ON CONFLICT (payment_method_id) DO NOTHING
            """)
        try await db.query("""
            UPDATE stripe_payment_methods SET is_default = \(true), removed_at = NULL
            WHERE payment_method_id = \(card.id) AND client_id = \(card.clientID)
            """)
        return try await find(id: card.id, clientID: card.clientID)
    }

    /// Marks the client's card removed; when it was the default, the newest other card becomes it.
    public func remove(id: String, clientID: UUID, now: Date) async throws {
        try await db.query("""
            UPDATE stripe_payment_methods SET removed_at = \(now), is_default = \(false)
            WHERE payment_method_id = \(id) AND client_id = \(clientID) AND removed_at IS NULL
            """)
        guard try await defaultCard(clientID: clientID) == nil,
              let next = try await list(clientID: clientID, limit: 1, offset: 0).first else { return }
        try await db.query("UPDATE stripe_payment_methods SET is_default = \(true) WHERE payment_method_id = \(next.id) AND client_id = \(clientID)")
    }

    static func card(_ row: SQLRow) throws -> Card {
        Card(
            id: try row.string("payment_method_id"), clientID: try row.uuid("client_id"), brand: try row.string("brand"), last4: try row.string("last4"),
            expMonth: Int(try row.int("exp_month")), expYear: Int(try row.int("exp_year")), isDefault: try row.bool("is_default"),
            createdAt: try row.date("created_at")
        )
    }
}
