import Foundation
import SteadfastDomain

/// Carts of visitors who have no account yet (`visitor_cart_items`), keyed by the hash of their
/// cart cookie, so any node serves them. Items are ``CartItem``s whose `clientID` is
/// ``CartItem/noClient`` until they move into an account's cart.
public struct VisitorCartRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(_ item: CartItem, cartHash: String) async throws {
        try await db.query("""
            INSERT INTO visitor_cart_items (id, cart_hash, product_id, cycle, selections, created_at)
            VALUES (\(item.id), \(cartHash), \(item.productID), \(item.cycle.rawValue), \(SelectionsCoding.encode(item.selections)), \(item.createdAt))
            """)
    }

    /// The cart's items added after `since`, oldest first.
    public func items(cartHash: String, since: Date) async throws -> [CartItem] {
        try await db.query("""
            SELECT * FROM visitor_cart_items WHERE cart_hash = \(cartHash) AND created_at > \(since) ORDER BY created_at, id LIMIT 1000
            """).map(Self.item)
    }

    /// Removes one item of this cart; `false` if the cart has no such item.
    public func remove(id: UUID, cartHash: String) async throws -> Bool {
        !(try await db.query("DELETE FROM visitor_cart_items WHERE id = \(id) AND cart_hash = \(cartHash) RETURNING id")).isEmpty
    }

    /// Removes and returns the cart's items (added after `since`), oldest first.
    public func take(cartHash: String, since: Date) async throws -> [CartItem] {
        let items = try await items(cartHash: cartHash, since: since)
        try await db.query("DELETE FROM visitor_cart_items WHERE cart_hash = \(cartHash)")
        return items
    }

    /// Deletes items added before `cutoff` (abandoned carts).
    public func prune(before cutoff: Date) async throws {
        try await db.query("DELETE FROM visitor_cart_items WHERE created_at <= \(cutoff)")
    }

    static func item(_ row: SQLRow) throws -> CartItem {
        CartItem(
            id: try row.uuid("id"), clientID: CartItem.noClient, productID: try row.uuid("product_id"),
            cycle: try row.enumeration("cycle", as: BillingCycle.self), selections: try SelectionsCoding.decode(try row.string("selections")),
            createdAt: try row.date("created_at")
        )
    }
}
