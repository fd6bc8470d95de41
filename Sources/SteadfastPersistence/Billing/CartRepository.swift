import Foundation
import SteadfastDomain

/// Clients' carts (`cart_items`), kept in the database so a cart survives any node.
public struct CartRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(_ item: CartItem) async throws {
        try await db.query("""
            INSERT INTO cart_items (id, client_id, product_id, cycle, selections, created_at)
            VALUES (\(item.id), \(item.clientID), \(item.productID), \(item.cycle.rawValue), \(SelectionsCoding.encode(item.selections)), \(item.createdAt))
            """)
    }

    public func items(clientID: UUID) async throws -> [CartItem] {
        try await db.query("SELECT * FROM cart_items WHERE client_id = \(clientID) ORDER BY created_at, id").map { row in
            CartItem(
                id: try row.uuid("id"), clientID: try row.uuid("client_id"), productID: try row.uuid("product_id"),
                cycle: try row.enumeration("cycle", as: BillingCycle.self), selections: try SelectionsCoding.decode(try row.string("selections")),
                createdAt: try row.date("created_at")
            )
        }
    }

    /// Removes one of the client's items; `false` if the client has no such item.
    public func remove(id: UUID, clientID: UUID) async throws -> Bool {
        !(try await db.query("DELETE FROM cart_items WHERE id = \(id) AND client_id = \(clientID) RETURNING id")).isEmpty
    }

    public func clear(clientID: UUID) async throws {
        try await db.query("DELETE FROM cart_items WHERE client_id = \(clientID)")
    }
}
