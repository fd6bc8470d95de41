import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport

/// A billing world on one database: settings, a hand-moved clock, every billing service, and
/// helpers that make clients and products.
struct BillingFixture: Sendable {
    static let secret = "test-card-secret-for-webhooks"

    let db: any SQLDatabase
    let clock: ManualClock
    let settings: BillingSettings

    init(db: any SQLDatabase, clock: ManualClock = ManualClock(), configure: (inout BillingSettings) -> Void = { _ in }) throws {
        self.db = db
        self.clock = clock
        var settings = BillingSettings(
            currency: .eur,
            taxTable: TaxTable(rules: [try TaxRule(parsing: "DE=19:VAT"), try TaxRule(parsing: "US-NY=8.875:Sales tax")], mode: .exclusive),
            invoiceNumberFormat: .standard, invoiceDueDays: 7, renewalLeadDays: 10, lateFee: .fixed(minorUnits: 500), lateFeeAfterDays: 3,
            reminderDays: [1, 7, 14], suspensionDays: 5, gateways: ["banktransfer", "testcard"], testCardSecret: Self.secret
        )
        configure(&settings)
        self.settings = settings
    }

    var catalogue: CatalogueService { CatalogueService(database: db, settings: settings, clock: clock) }
    var orders: OrderService { OrderService(database: db, settings: settings, clock: clock) }
    var invoices: InvoiceService { InvoiceService(database: db, settings: settings, clock: clock) }
    var payments: PaymentService { PaymentService(database: db, settings: settings, clock: clock) }
    var recurring: RecurringBilling { RecurringBilling(database: db, settings: settings, clock: clock) }
    var clients: ClientBillingService { ClientBillingService(database: db, settings: settings, clock: clock) }

    var today: BillingDate { settings.day(clock.now()) }

    /// A client account (no real password: these tests never log in).
    func client(_ name: String = "Client", country: String? = "DE", region: String? = nil) async throws -> UUID {
        let id = UUID()
        try await AccountRepository(database: db).insert(Account(
            id: id, email: try EmailAddress("\(name.lowercased())-\(id.uuidString.prefix(8))@example.com"), name: name, role: .client,
            passwordHash: "$2b$04$x", createdAt: clock.now()
        ))
        if country != nil || region != nil {
            _ = try await clients.updateProfile(clientID: id, country: country, region: region, taxExempt: nil)
        }
        return id
    }

    func staff() async throws -> UUID {
        let id = UUID()
        try await AccountRepository(database: db).insert(Account(
            id: id, email: try EmailAddress("staff-\(id.uuidString.prefix(8))@example.com"), name: "Staff", role: .staff, passwordHash: "$2b$04$x",
            createdAt: clock.now()
        ))
        try await StaffRepository(db).setRoles(accountID: id, roleIDs: [StaffRole.fullAccessID])
        return id
    }

    /// A product priced 10.00/month (setup 5.00) and 100.00/year, optionally with a stock limit.
    func product(name: String = "Hosting", monthly: Int64 = 1000, setup: Int64 = 500, stock: Int? = nil, options: [CatalogueService.ProductInput.OptionInput] = []) async throws -> Product {
        let group = try await catalogue.createGroup(name: "Group \(name)")
        return try await catalogue.createProduct(.init(
            groupID: group.id, name: name, pricing: [.monthly: PricePoint(recurring: monthly, setupFee: setup), .annually: PricePoint(recurring: monthly * 10)],
            options: options, stockLimit: stock
        ))
    }

    /// Orders `product` for `client` (one item) and returns the order outcome.
    func order(_ product: Product, for client: UUID, cycle: BillingCycle = .monthly, count: Int = 1) async throws -> OrderOutcome {
        for _ in 0..<count {
            _ = try await orders.addToCart(clientID: client, productID: product.id, cycle: cycle, selections: [:])
        }
        return try await orders.checkout(clientID: client, idempotencyKey: nil).value
    }

    /// Orders and pays by card; returns the (now accepted) order's services.
    func activeServices(_ product: Product, for client: UUID, count: Int = 1) async throws -> [ClientService] {
        let placed = try await order(product, for: client, count: count)
        _ = try await payments.pay(
            clientID: client, invoiceID: UUID(uuidString: placed.invoiceID)!, gateway: "testcard", amount: nil, cardToken: "tok_visa",
            idempotencyKey: UUID().uuidString
        )
        return try await clients.services(clientID: client, limit: 1000)
    }

    func invoiceID(_ outcome: OrderOutcome) -> UUID { UUID(uuidString: outcome.invoiceID)! }
}

extension ManualClock {
    /// Moves the clock `days` whole days on.
    func advance(days: Int) { advance(by: TimeInterval(days) * 86_400) }
}
