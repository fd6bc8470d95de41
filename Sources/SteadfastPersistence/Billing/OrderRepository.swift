import Foundation
import SteadfastDomain

/// Orders and their items.
public struct OrderRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(_ order: Order, now: Date) async throws {
        try await db.query("""
            INSERT INTO orders (id, client_id, status, currency, invoice_id, order_date, created_at, updated_at)
            VALUES (\(order.id), \(order.clientID), \(order.status.rawValue), \(order.currency.code), \(order.invoiceID), \(order.orderDate.iso), \(now), \(now))
            """)
        for (position, item) in order.items.enumerated() {
            try await db.query("""
                INSERT INTO order_items (id, order_id, position, product_id, description, cycle, selections, recurring, setup_fee, service_id)
                VALUES (\(item.id), \(order.id), \(position), \(item.productID), \(item.description), \(item.cycle.rawValue),
                        \(SelectionsCoding.encode(item.selections)), \(item.recurring.minorUnits), \(item.setupFee.minorUnits), \(item.serviceID))
                """)
        }
    }

    /// The order with its items; with `clientID`, only if it belongs to that client.
    public func find(id: UUID, clientID: UUID? = nil, lock: Bool = false) async throws -> Order? {
        let owner: SQL = clientID.map { "AND client_id = \($0)" } ?? ""
        let locking: SQL = lock ? SQL.forUpdate(db.dialect) : ""
        guard let row = try await db.first("SELECT * FROM orders WHERE id = \(id) \(owner)\(locking)") else { return nil }
        let currency = try row.currency()
        let items = try await db.query("SELECT * FROM order_items WHERE order_id = \(id) ORDER BY position").map { try Self.item($0, currency) }
        return try Self.order(row, items: items)
    }

    /// Orders newest first with their items (one more query for the whole page), of one client
    /// or all, optionally of one status.
    /// What the staff order list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("created", "created_at", first: .desc), .init("client", "LOWER((SELECT a.name FROM accounts a WHERE a.id = orders.client_id))"),
        .init("status", "status"),
    ], default: ListSort("created", .desc), tieBreaker: "id")

    public func list(clientID: UUID? = nil, status: OrderStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Order] {
        var conditions: [SQL] = ["1 = 1"]
        if let clientID { conditions.append("client_id = \(clientID)") }
        if let status { conditions.append("status = \(status.rawValue)") }
        let orders = try await db.query("""
            SELECT * FROM orders WHERE \(SQL.joined(conditions, separator: " AND ")) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map { try Self.order($0, items: []) }
        guard !orders.isEmpty else { return orders }
        let currencies = Dictionary(orders.map { ($0.id, $0.currency) }, uniquingKeysWith: { first, _ in first })
        var items: [UUID: [OrderItem]] = [:]
        for row in try await db.query("""
            SELECT * FROM order_items WHERE order_id IN (\(SQL.joined(orders.map { "\($0.id)" }, separator: ", "))) ORDER BY order_id, position
            """) {
            let orderID = try row.uuid("order_id")
            items[orderID, default: []].append(try Self.item(row, currencies[orderID] ?? .usd))
        }
        return orders.map { order in
            var order = order
            order.items = items[order.id] ?? []
            return order
        }
    }

    static func item(_ row: SQLRow, _ currency: Currency) throws -> OrderItem {
        OrderItem(
            id: try row.uuid("id"), productID: try row.uuid("product_id"), description: try row.string("description"),
            cycle: try row.enumeration("cycle", as: BillingCycle.self), selections: try SelectionsCoding.decode(try row.string("selections")),
            recurring: try row.money("recurring", currency), setupFee: try row.money("setup_fee", currency), serviceID: try row.optionalUUID("service_id")
        )
    }

    /// Moves the order from `from` to `to`; `false` if it was no longer in `from`.
    public func transition(id: UUID, from: OrderStatus, to: OrderStatus, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE orders SET status = \(to.rawValue), updated_at = \(now) WHERE id = \(id) AND status = \(from.rawValue) RETURNING id
            """)).isEmpty
    }

    public func setInvoice(orderID: UUID, invoiceID: UUID) async throws {
        try await db.query("UPDATE orders SET invoice_id = \(invoiceID) WHERE id = \(orderID)")
    }

    public func setService(itemID: UUID, serviceID: UUID) async throws {
        try await db.query("UPDATE order_items SET service_id = \(serviceID) WHERE id = \(itemID)")
    }

    static func order(_ row: SQLRow, items: [OrderItem]) throws -> Order {
        Order(
            id: try row.uuid("id"), clientID: try row.uuid("client_id"), status: try row.enumeration("status", as: OrderStatus.self),
            currency: try row.currency(), invoiceID: try row.optionalUUID("invoice_id"), items: items, createdAt: try row.date("created_at"),
            orderDate: try row.billingDate("order_date")
        )
    }
}
