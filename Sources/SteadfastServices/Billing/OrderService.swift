import Crypto
import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Cart → order → invoice, and staff decisions on orders.
///
/// Checking out prices every item, takes stock, creates the order and its issued invoice, and
/// empties the cart in ONE transaction; with an idempotency key a retried checkout returns the
/// same order instead of placing a second one.
public struct OrderService: BillingService {
    public let dependencies: BillingDependencies

    public init(_ dependencies: BillingDependencies) {
        self.dependencies = dependencies
    }

    /// The most items one order may hold.
    public static let maximumItems = 500

    // MARK: Cart

    /// Adds a product to the client's cart after checking it can be ordered as asked.
    public func addToCart(clientID: UUID, productID: UUID, cycle: BillingCycle, selections: [UUID: UUID]) async throws -> CartItem {
        try await checkOrderable(productID: productID, cycle: cycle, selections: selections)
        let now = clock.now()
        let item = CartItem(id: UUID(), clientID: clientID, productID: productID, cycle: cycle, selections: selections, createdAt: now)
        try await database.transaction { tx in
            let cart = CartRepository(tx)
            guard try await cart.items(clientID: clientID).count < Self.maximumItems else {
                throw BillingError.invalid("a cart holds at most \(Self.maximumItems) items", field: "product_id")
            }
            try await cart.insert(item)
            try await AuditTrail.record(
                tx, .cartItemAdded, object: AuditObject("cart_item", item.id), after: ["product_id": productID.uuidString.lowercased(), "cycle": cycle.rawValue],
                account: clientID, now: now
            )
        }
        return item
    }

    /// Refuses a product that does not exist, is out of stock, or cannot be had as asked.
    func checkOrderable(productID: UUID, cycle: BillingCycle, selections: [UUID: UUID]) async throws {
        guard let product = try await CatalogueRepository(database).product(id: productID) else {
            throw BillingError.invalid("there is no such product", field: "product_id")
        }
        _ = try product.quote(cycle: cycle, selections: selections)
        if let remaining = product.stockRemaining, remaining == 0 {
            throw BillingError(.unavailable, "\(product.name) is out of stock", field: "product_id")
        }
    }

    // MARK: Visitors' carts

    /// How long a visitor's cart is kept.
    public static let visitorCartLifetime: TimeInterval = 30 * 86_400

    /// What a visitor's cart is stored under: the SHA-256 of their cart cookie.
    static func cartHash(_ cartKey: String) -> String {
        SHA256.hash(data: Data(cartKey.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Adds a product to a visitor's cart (cookie `cartKey`; no account yet), checked like ``addToCart(clientID:productID:cycle:selections:)``.
    public func addToVisitorCart(cartKey: String, productID: UUID, cycle: BillingCycle, selections: [UUID: UUID]) async throws -> CartItem {
        try await checkOrderable(productID: productID, cycle: cycle, selections: selections)
        let now = clock.now()
        let cart = VisitorCartRepository(database)
        try await cart.prune(before: now.addingTimeInterval(-Self.visitorCartLifetime))
        guard try await visitorCart(cartKey: cartKey).count < Self.maximumItems else {
            throw BillingError.invalid("a cart holds at most \(Self.maximumItems) items", field: "product_id")
        }
        let item = CartItem(id: UUID(), clientID: CartItem.noClient, productID: productID, cycle: cycle, selections: selections, createdAt: now)
        try await cart.insert(item, cartHash: Self.cartHash(cartKey))
        return item
    }

    public func visitorCart(cartKey: String) async throws -> [CartItem] {
        try await VisitorCartRepository(database).items(cartHash: Self.cartHash(cartKey), since: clock.now().addingTimeInterval(-Self.visitorCartLifetime))
    }

    public func removeFromVisitorCart(cartKey: String, itemID: UUID) async throws {
        guard try await VisitorCartRepository(database).remove(id: itemID, cartHash: Self.cartHash(cartKey)) else { throw BillingError.notFound("cart item") }
    }

    /// The visitor's cart priced with the provider's defaults (the client's own tax applies once they log in).
    public func quoteVisitorCart(cartKey: String) async throws -> (items: [(CartItem, Product, Product.Quote)], totals: InvoiceCalculator.Totals) {
        try await quote(try await visitorCart(cartKey: cartKey), profile: settings.defaultProfile(clientID: CartItem.noClient))
    }

    /// Moves a visitor's cart into the client's (at log-in or registration), in one transaction,
    /// up to the cart limit; returns how many items moved. A second call finds nothing to move.
    @discardableResult
    public func claimVisitorCart(cartKey: String, clientID: UUID) async throws -> Int {
        let hash = Self.cartHash(cartKey)
        let now = clock.now()
        let since = now.addingTimeInterval(-Self.visitorCartLifetime)
        return try await database.transaction { tx in
            let taken = try await VisitorCartRepository(tx).take(cartHash: hash, since: since)
            let cart = CartRepository(tx)
            let room = max(0, Self.maximumItems - (try await cart.items(clientID: clientID).count))
            for item in taken.prefix(room) {
                var mine = item
                mine.clientID = clientID
                try await cart.insert(mine)
            }
            if !taken.isEmpty {
                try await AuditTrail.record(
                    tx, .cartClaimed, object: AuditObject("cart", clientID), after: ["items_claimed": String(min(taken.count, room)), "items_dropped": String(taken.count - min(taken.count, room))],
                    account: clientID, now: now
                )
            }
            return min(taken.count, room)
        }
    }

    public func cart(clientID: UUID) async throws -> [CartItem] {
        try await CartRepository(database).items(clientID: clientID)
    }

    public func removeFromCart(clientID: UUID, itemID: UUID) async throws {
        let now = clock.now()
        try await database.transaction { tx in
            guard try await CartRepository(tx).remove(id: itemID, clientID: clientID) else { throw BillingError.notFound("cart item") }
            try await AuditTrail.record(tx, .cartItemRemoved, object: AuditObject("cart_item", itemID), account: clientID, now: now)
        }
    }

    /// The cart priced for the client (their tax rule applied), without placing an order.
    public func quoteCart(clientID: UUID) async throws -> (items: [(CartItem, Product, Product.Quote)], totals: InvoiceCalculator.Totals) {
        let items = try await cart(clientID: clientID)
        let profile = try await BillingProfileRepository(database).find(clientID: clientID) ?? settings.defaultProfile(clientID: clientID)
        return try await quote(items, profile: profile)
    }

    /// `items` priced for `profile` (products no longer sold are left out).
    func quote(_ items: [CartItem], profile: BillingProfile) async throws -> (items: [(CartItem, Product, Product.Quote)], totals: InvoiceCalculator.Totals) {
        let catalogue = CatalogueRepository(database)
        var priced: [(CartItem, Product, Product.Quote)] = []
        var drafts: [InvoiceLineDraft] = []
        var products: [UUID: Product] = [:]
        for item in items {
            if products[item.productID] == nil { products[item.productID] = try await catalogue.product(id: item.productID) }
            guard let product = products[item.productID] else { continue }
            guard let quote = try? product.quote(cycle: item.cycle, selections: item.selections) else { continue }
            priced.append((item, product, quote))
            drafts.append(InvoiceLineDraft(kind: .product, description: product.name, price: quote.recurring, taxable: product.taxable))
            if quote.setupFee.isPositive {
                drafts.append(InvoiceLineDraft(kind: .setup, description: product.name, price: quote.setupFee, taxable: product.taxable))
            }
        }
        let lines = try settings.calculator(for: profile).lines(drafts)
        return (priced, try InvoiceCalculator.totals(lines, currency: settings.currency))
    }

    // MARK: Checkout

    /// Places an order for everything in the cart; `idempotencyKey` (optional) makes retries safe.
    public func checkout(clientID: UUID, idempotencyKey: String?) async throws -> IdempotentResult<OrderOutcome> {
        let settings = self.settings
        if settings.requireVerifiedEmail, try await database.first("SELECT email_verified_at FROM accounts WHERE id = \(clientID)")?.isNull("email_verified_at") != false {
            throw AccountError.emailNotVerified
        }
        let now = clock.now()
        let body: @Sendable (any SQLExecutor) async throws -> OrderOutcome = { tx in
            try await Self.placeOrder(tx: tx, clientID: clientID, settings: settings, now: now)
        }
        let lock: @Sendable (any SQLExecutor) async throws -> Void = { tx in
            _ = try await BillingLedger(tx: tx, settings: settings, now: now).lockClient(clientID)
        }
        guard let idempotencyKey else {
            let value = try await database.transaction { tx in
                try await lock(tx)
                return try await body(tx)
            }
            let json = String(decoding: try IdempotencyGuard.encoder.encode(value), as: UTF8.self)
            return IdempotentResult(value: value, json: json, replayed: false)
        }
        let key = "checkout:\(clientID.uuidString.lowercased()):\(try IdempotencyGuard.validate(idempotencyKey))"
        return try await IdempotencyGuard(database: database, clock: clock).run(key: key, fingerprint: "checkout", lock: lock, body)
    }

    static func placeOrder(tx: any SQLExecutor, clientID: UUID, settings: BillingSettings, now: Date) async throws -> OrderOutcome {
        let ledger = BillingLedger(tx: tx, settings: settings, now: now)
        let profile = try await ledger.lockClient(clientID)
        let cart = CartRepository(tx)
        let items = try await cart.items(clientID: clientID)
        guard !items.isEmpty else { throw BillingError.conflict("the cart is empty", field: "cart") }
        guard items.count <= maximumItems else { throw BillingError.invalid("an order holds at most \(maximumItems) items", field: "cart") }
        let catalogue = CatalogueRepository(tx)
        var products: [UUID: Product] = [:]
        for id in Set(items.map(\.productID)) {
            guard let product = try await catalogue.product(id: id) else { throw BillingError(.unavailable, "a product in the cart is no longer sold", field: "cart") }
            guard product.currency == profile.currency else {
                throw BillingError(.currencyMismatch, "\(product.name) is priced in \(product.currency.code), your account in \(profile.currency.code)", field: "cart")
            }
            products[id] = product
        }
        // Stock in a fixed order (by product id), so two orders cannot lock each other out.
        let counts = Dictionary(grouping: items, by: \.productID).mapValues(\.count)
        for (productID, quantity) in counts.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            guard try await catalogue.reserveStock(productID: productID, quantity: quantity) else {
                throw BillingError(.unavailable, "\(products[productID]!.name) is out of stock", field: "cart")
            }
        }
        let today = ledger.today
        var orderItems: [OrderItem] = []
        var drafts: [InvoiceLineDraft] = []
        var draftItems: [UUID] = []
        for item in items {
            let product = products[item.productID]!
            let quote = try product.quote(cycle: item.cycle, selections: item.selections)
            let description = quote.selections.isEmpty ? product.name : "\(product.name) (\(quote.optionsDescription))"
            let orderItem = OrderItem(
                id: UUID(), productID: product.id, description: description, cycle: item.cycle, selections: item.selections,
                recurring: quote.recurring, setupFee: quote.setupFee, serviceID: nil
            )
            orderItems.append(orderItem)
            let periodEnd = item.cycle.nextDueDate(after: today, anchorDay: today.day)
            let label = periodEnd.map { "\(description) — \(item.cycle.label) \(today.iso) to \($0.adding(days: -1).iso)" } ?? "\(description) — \(item.cycle.label)"
            drafts.append(InvoiceLineDraft(kind: .product, description: label, price: quote.recurring, taxable: product.taxable, periodStart: periodEnd == nil ? nil : today, periodEnd: periodEnd))
            draftItems.append(orderItem.id)
            if quote.setupFee.isPositive {
                drafts.append(InvoiceLineDraft(kind: .setup, description: "Setup fee: \(description)", price: quote.setupFee, taxable: product.taxable))
                draftItems.append(orderItem.id)
            }
        }
        let calculator = settings.calculator(for: profile)
        let lines = try calculator.lines(drafts)
        var orderItemIDs: [UUID: UUID] = [:]
        for (line, itemID) in zip(lines, draftItems) { orderItemIDs[line.id] = itemID }
        let totals = try InvoiceCalculator.totals(lines, currency: profile.currency)
        let order = Order(id: UUID(), clientID: clientID, status: .pending, currency: profile.currency, invoiceID: nil, items: orderItems, createdAt: now, orderDate: today)
        var invoice = Invoice(
            id: UUID(), clientID: clientID, number: nil, status: .draft, currency: profile.currency, issueDate: nil,
            dueDate: today.adding(days: settings.invoiceDueDays), paidAt: nil, subtotal: totals.subtotal, tax: totals.tax, total: totals.total,
            amountPaid: .zero(profile.currency), taxName: calculator.rule?.name, taxRate: calculator.rule?.rate, taxMode: calculator.mode,
            orderID: order.id, lines: [], createdAt: now
        )
        try await ledger.issue(&invoice)
        var placed = order
        placed.invoiceID = invoice.id
        try await ledger.orders.insert(placed, now: now)
        try await ledger.invoices.insert(invoice, now: now)
        try await ledger.invoices.insert(lines: lines, invoiceID: invoice.id, orderItemIDs: orderItemIDs)
        invoice.lines = lines
        try await ledger.settleIfZero(&invoice)
        try await cart.clear(clientID: clientID)
        try await AuditTrail.record(
            tx, .orderPlaced, object: AuditObject("order", order.id),
            after: ["status": order.status.rawValue, "items": String(orderItems.count), "invoice_id": invoice.id.uuidString.lowercased()],
            amounts: ["total": invoice.total], account: clientID, now: now
        )
        return OrderOutcome(
            orderID: order.id.uuidString.lowercased(), invoiceID: invoice.id.uuidString.lowercased(), invoiceNumber: invoice.number,
            total: invoice.total.minorUnits, currency: invoice.currency.code
        )
    }

    // MARK: Reading

    public func order(id: UUID, clientID: UUID?) async throws -> Order {
        guard let order = try await OrderRepository(database).find(id: id, clientID: clientID) else { throw BillingError.notFound("order") }
        return order
    }

    public func orders(clientID: UUID?, status: OrderStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Order] {
        try await OrderRepository(database).list(clientID: clientID, status: status, sort: sort, limit: limit, offset: offset)
    }

    // MARK: Staff decisions

    /// Accepts a pending order, creating its services (active if its invoice is paid).
    public func accept(orderID: UUID) async throws -> Order {
        try await decide(orderID: orderID, audit: .orderAccepted) { ledger, order in
            var invoicePaid = false
            if let invoiceID = order.invoiceID, let invoice = try await ledger.invoices.find(id: invoiceID) {
                invoicePaid = invoice.status == .paid
            }
            try await ledger.accept(order, invoicePaid: invoicePaid)
        }
    }

    /// Cancels (or, with `fraud`, refuses) a pending order: its unpaid invoice is cancelled and
    /// its stock given back. An order whose invoice has payments must be refunded first.
    public func cancel(orderID: UUID, fraud: Bool = false) async throws -> Order {
        try await decide(orderID: orderID, audit: fraud ? .orderMarkedFraud : .orderCancelled) { ledger, order in
            let target = try order.status.next(on: fraud ? .markFraud : .cancel)
            if let invoiceID = order.invoiceID, var invoice = try await ledger.invoices.find(id: invoiceID, lock: true) {
                guard invoice.amountPaid.isZero else {
                    throw BillingError.conflict("the order's invoice has payments; refund them before cancelling the order")
                }
                if invoice.status != .cancelled {
                    try invoice.status.apply(.cancel)
                    try await ledger.invoices.save(invoice, now: ledger.now)
                }
            }
            guard try await ledger.orders.transition(id: order.id, from: order.status, to: target, now: ledger.now) else {
                throw BillingError.conflict("the order changed at the same moment; reload and try again")
            }
            let catalogue = CatalogueRepository(ledger.tx)
            for (productID, items) in Dictionary(grouping: order.items, by: \.productID).sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                try await catalogue.releaseStock(productID: productID, quantity: items.count)
            }
        }
    }

    private func decide(orderID: UUID, audit: AuditAction, _ action: @escaping @Sendable (BillingLedger, Order) async throws -> Void) async throws -> Order {
        let settings = self.settings
        let now = clock.now()
        guard let clientID = try await OrderRepository(database).find(id: orderID)?.clientID else { throw BillingError.notFound("order") }
        try await database.transaction { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            _ = try await ledger.lockClient(clientID)
            guard let order = try await ledger.orders.find(id: orderID, lock: true) else { throw BillingError.notFound("order") }
            try await action(ledger, order)
            let after = try await ledger.orders.find(id: orderID)?.status ?? order.status
            try await AuditTrail.record(
                tx, audit, object: AuditObject("order", orderID), before: ["status": order.status.rawValue], after: ["status": after.rawValue], account: clientID, now: now
            )
        }
        return try await order(id: orderID, clientID: nil)
    }
}
