import Foundation
import SteadfastDomain

/// Product groups, products, their prices per cycle and configurable options.
///
/// Prices for products and option choices share `catalogue_prices`, keyed by the owner's id
/// (UUIDs never collide) and the cycle.
public struct CatalogueRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    // MARK: Groups

    public func insert(_ group: ProductGroup) async throws {
        try await db.query("""
            INSERT INTO product_groups (id, name, description, hidden, sort_order, created_at)
            VALUES (\(group.id), \(group.name), \(group.description), \(group.hidden), \(group.sortOrder), \(group.createdAt))
            """)
    }

    public func update(_ group: ProductGroup) async throws {
        try await db.query("""
            UPDATE product_groups SET name = \(group.name), description = \(group.description), hidden = \(group.hidden),
                sort_order = \(group.sortOrder) WHERE id = \(group.id)
            """)
    }

    public func group(id: UUID) async throws -> ProductGroup? {
        try await db.first("SELECT * FROM product_groups WHERE id = \(id)").map(Self.group)
    }

    public func groups() async throws -> [ProductGroup] {
        try await db.query("SELECT * FROM product_groups ORDER BY sort_order, name").map(Self.group)
    }

    // MARK: Products

    /// Inserts a product with its prices, options, choices and their prices.
    public func insert(_ product: Product) async throws {
        try await db.query("""
            INSERT INTO products (id, group_id, name, description, currency, hidden, retired, stock_limit, stock_sold, taxable, created_at, updated_at)
            VALUES (\(product.id), \(product.groupID), \(product.name), \(product.description), \(product.currency.code), \(product.hidden),
                    \(product.retired), \(product.stockLimit), \(product.stockSold), \(product.taxable), \(product.createdAt), \(product.createdAt))
            """)
        try await insertPrices(owner: product.id, product.pricing)
        for (position, option) in product.options.enumerated() {
            try await db.query("""
                INSERT INTO product_options (id, product_id, name, position) VALUES (\(option.id), \(product.id), \(option.name), \(position))
                """)
            for (choicePosition, choice) in option.choices.enumerated() {
                try await db.query("""
                    INSERT INTO product_option_choices (id, option_id, name, position)
                    VALUES (\(choice.id), \(option.id), \(choice.name), \(choicePosition))
                    """)
                try await insertPrices(owner: choice.id, choice.pricing)
            }
        }
    }

    /// Updates a product's own fields and replaces its prices (options are kept as they are).
    public func update(_ product: Product, now: Date) async throws {
        try await db.query("""
            UPDATE products SET group_id = \(product.groupID), name = \(product.name), description = \(product.description),
                hidden = \(product.hidden), retired = \(product.retired), stock_limit = \(product.stockLimit), taxable = \(product.taxable),
                updated_at = \(now)
            WHERE id = \(product.id)
            """)
        try await db.query("DELETE FROM catalogue_prices WHERE owner_id = \(product.id)")
        try await insertPrices(owner: product.id, product.pricing)
    }

    private func insertPrices(owner: UUID, _ pricing: [BillingCycle: PricePoint]) async throws {
        for cycle in BillingCycle.allCases {
            guard let price = pricing[cycle] else { continue }
            try await db.query("""
                INSERT INTO catalogue_prices (owner_id, cycle, recurring, setup_fee)
                VALUES (\(owner), \(cycle.rawValue), \(price.recurring), \(price.setupFee))
                """)
        }
    }

    public func product(id: UUID) async throws -> Product? {
        guard let row = try await db.first("SELECT * FROM products WHERE id = \(id)") else { return nil }
        return try await hydrate([row]).first
    }

    /// Products, optionally of one group, optionally leaving out hidden and retired ones.
    public func products(groupID: UUID? = nil, includeHidden: Bool = true, includeRetired: Bool = true) async throws -> [Product] {
        var conditions: [SQL] = ["1 = 1"]
        if let groupID { conditions.append("group_id = \(groupID)") }
        if !includeHidden { conditions.append("hidden = \(false)") }
        if !includeRetired { conditions.append("retired = \(false)") }
        let rows = try await db.query("SELECT * FROM products WHERE \(SQL.joined(conditions, separator: " AND ")) ORDER BY name")
        return try await hydrate(rows)
    }

    /// What the staff product list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("name", "LOWER(name)"), .init("group", "LOWER((SELECT g.name FROM product_groups g WHERE g.id = products.group_id))"),
        .init("stock", "stock_sold", first: .desc), .init("state", "CASE WHEN retired THEN 2 WHEN hidden THEN 1 ELSE 0 END"),
        .init("created", "created_at", first: .desc),
    ], default: ListSort("name", .asc), tieBreaker: "id")

    /// Which products the staff list shows, by what the store does with them.
    public enum SaleState: String, Sendable, CaseIterable {
        case onSale = "on_sale", hidden, retired
    }

    /// One page of the staff product list, optionally of one sale state, by name unless `sort`
    /// says otherwise.
    public func list(state: SaleState? = nil, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Product] {
        let filter: SQL = switch state {
        case nil: ""
        case .onSale?: "WHERE NOT retired AND NOT hidden"
        case .hidden?: "WHERE hidden AND NOT retired"
        case .retired?: "WHERE retired"
        }
        let rows = try await db.query("SELECT * FROM products \(filter) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)")
        return try await hydrate(rows)
    }

    /// Takes `quantity` from the product's stock; `false` when not enough is left. Atomic: two
    /// nodes selling the last unit at once cannot both succeed.
    public func reserveStock(productID: UUID, quantity: Int) async throws -> Bool {
        let rows = try await db.query("""
            UPDATE products SET stock_sold = stock_sold + \(quantity)
            WHERE id = \(productID) AND (stock_limit IS NULL OR stock_sold + \(quantity) <= stock_limit)
            RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Gives back stock taken by a cancelled order.
    public func releaseStock(productID: UUID, quantity: Int) async throws {
        try await db.query("""
            UPDATE products SET stock_sold = CASE WHEN stock_sold >= \(quantity) THEN stock_sold - \(quantity) ELSE 0 END WHERE id = \(productID)
            """)
    }

    /// Loads prices and options for product rows in four queries, whatever their number.
    private func hydrate(_ rows: [SQLRow]) async throws -> [Product] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.uuid("id") }
        let optionRows = try await db.query("SELECT * FROM product_options WHERE product_id IN \(SQL.list(ids)) ORDER BY position")
        let optionIDs = try optionRows.map { try $0.uuid("id") }
        let choiceRows = optionIDs.isEmpty ? [] : try await db.query(
            "SELECT * FROM product_option_choices WHERE option_id IN \(SQL.list(optionIDs)) ORDER BY position"
        )
        let choiceIDs = try choiceRows.map { try $0.uuid("id") }
        let priceRows = try await db.query("SELECT * FROM catalogue_prices WHERE owner_id IN \(SQL.list(ids + choiceIDs))")
        var prices: [UUID: [BillingCycle: PricePoint]] = [:]
        for row in priceRows {
            let cycle = try row.enumeration("cycle", as: BillingCycle.self)
            prices[try row.uuid("owner_id"), default: [:]][cycle] = PricePoint(recurring: try row.int("recurring"), setupFee: try row.int("setup_fee"))
        }
        var choicesByOption: [UUID: [OptionChoice]] = [:]
        for row in choiceRows {
            let id = try row.uuid("id")
            choicesByOption[try row.uuid("option_id"), default: []].append(OptionChoice(id: id, name: try row.string("name"), pricing: prices[id] ?? [:]))
        }
        var optionsByProduct: [UUID: [ConfigurableOption]] = [:]
        for row in optionRows {
            let id = try row.uuid("id")
            optionsByProduct[try row.uuid("product_id"), default: []].append(ConfigurableOption(id: id, name: try row.string("name"), choices: choicesByOption[id] ?? []))
        }
        return try rows.map { row in
            let id = try row.uuid("id")
            return Product(
                id: id, groupID: try row.uuid("group_id"), name: try row.string("name"), description: try row.string("description"),
                currency: try row.currency(), pricing: prices[id] ?? [:], options: optionsByProduct[id] ?? [],
                hidden: try row.bool("hidden"), retired: try row.bool("retired"), stockLimit: try row.optionalInt("stock_limit").map(Int.init),
                stockSold: Int(try row.int("stock_sold")), taxable: try row.bool("taxable"), createdAt: try row.date("created_at")
            )
        }
    }

    static func group(_ row: SQLRow) throws -> ProductGroup {
        ProductGroup(
            id: try row.uuid("id"), name: try row.string("name"), description: try row.string("description"), hidden: try row.bool("hidden"),
            sortOrder: Int(try row.int("sort_order")), createdAt: try row.date("created_at")
        )
    }
}
