import Foundation
import SteadfastDomain
import SteadfastPersistence

// The client-facing entry points of the billing services (docs/accounts.md, "Client users"):
// each takes the acting account, asks ``ClientAccessPolicy`` for the permission it needs and
// acts on that account's client (``Account/clientID``: the owner's for a client's user). Pages
// and the API call these; the `clientID:` forms beside them are for staff, jobs and tools.
// `ClientUsersLiveTests` walks every client route as a user without the permission.

extension OrderService {
    public func addToCart(for actor: Account, productID: UUID, cycle: BillingCycle, selections: [UUID: UUID]) async throws -> CartItem {
        try await addToCart(clientID: ClientAccessPolicy.client(of: actor, for: .billing), productID: productID, cycle: cycle, selections: selections)
    }

    public func removeFromCart(for actor: Account, itemID: UUID) async throws {
        try await removeFromCart(clientID: ClientAccessPolicy.client(of: actor, for: .billing), itemID: itemID)
    }

    public func quoteCart(for actor: Account) async throws -> (items: [(CartItem, Product, Product.Quote)], totals: InvoiceCalculator.Totals) {
        try await quoteCart(clientID: ClientAccessPolicy.client(of: actor, for: .billing))
    }

    public func checkout(for actor: Account, idempotencyKey: String?) async throws -> IdempotentResult<OrderOutcome> {
        try await checkout(clientID: ClientAccessPolicy.client(of: actor, for: .billing), idempotencyKey: idempotencyKey)
    }

    public func order(id: UUID, for actor: Account) async throws -> Order {
        try await order(id: id, clientID: ClientAccessPolicy.client(of: actor, for: .billing))
    }

    public func orders(for actor: Account, status: OrderStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Order] {
        try await orders(clientID: ClientAccessPolicy.client(of: actor, for: .billing), status: status, sort: sort, limit: limit, offset: offset)
    }

    /// A visitor's cart moves into the client's cart at log-in only for someone who may order
    /// (`billing`); for a client's user without it the visitor's cart stays where it was.
    public func claimVisitorCart(cartKey: String, for actor: Account) async throws -> Int {
        guard ClientAccessPolicy.allows(actor, .billing) else { return 0 }
        return try await claimVisitorCart(cartKey: cartKey, clientID: actor.clientID)
    }
}

extension ClientBillingService {
    public func profile(for actor: Account) async throws -> BillingProfile {
        try await profile(clientID: ClientAccessPolicy.client(of: actor, for: .billing))
    }

    /// A client's own change: never the tax exemption (staff set that).
    public func updateProfile(for actor: Account, country: String?, region: String?, identity: Identity? = nil) async throws -> BillingProfile {
        try await updateProfile(clientID: ClientAccessPolicy.client(of: actor, for: .billing), country: country, region: region, taxExempt: nil, identity: identity)
    }

    public func services(for actor: Account, status: ServiceStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [ClientService] {
        try await services(clientID: ClientAccessPolicy.client(of: actor, for: .services), status: status, sort: sort, limit: limit, offset: offset)
    }

    public func service(id: UUID, for actor: Account) async throws -> ClientService {
        try await service(id: id, clientID: ClientAccessPolicy.client(of: actor, for: .services))
    }
}

extension InvoiceService {
    /// The client's invoice; drafts are staff-only (404).
    public func invoice(id: UUID, for actor: Account) async throws -> Invoice {
        let invoice = try await self.invoice(id: id, clientID: ClientAccessPolicy.client(of: actor, for: .billing))
        guard invoice.status != .draft else { throw BillingError.notFound("invoice") }
        return invoice
    }

    public func invoices(for actor: Account, status: InvoiceStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Invoice] {
        try await invoices(clientID: ClientAccessPolicy.client(of: actor, for: .billing), status: status, sort: sort, limit: limit, offset: offset, includeDrafts: false)
    }
}

extension PaymentService {
    public func pay(
        for actor: Account, invoiceID: UUID, gateway: String, amount: Int64?, cardToken: String?, paymentMethod: String? = nil, idempotencyKey: String?
    ) async throws -> IdempotentResult<PayOutcome> {
        try await pay(
            clientID: ClientAccessPolicy.client(of: actor, for: .billing), invoiceID: invoiceID, gateway: gateway, amount: amount, cardToken: cardToken,
            paymentMethod: paymentMethod, idempotencyKey: idempotencyKey
        )
    }

    public func applyCredit(for actor: Account, invoiceID: UUID, amount: Int64?, idempotencyKey: String?) async throws -> IdempotentResult<PayOutcome> {
        try await applyCredit(clientID: ClientAccessPolicy.client(of: actor, for: .billing), invoiceID: invoiceID, amount: amount, idempotencyKey: idempotencyKey)
    }

    public func simulateTestCardCheckout(for actor: Account, checkoutID: UUID, succeed: Bool) async throws -> IdempotentResult<WebhookOutcome> {
        try await simulateTestCardCheckout(clientID: ClientAccessPolicy.client(of: actor, for: .billing), checkoutID: checkoutID, succeed: succeed)
    }

    public func checkout(id: UUID, for actor: Account) async throws -> CheckoutRepository.Checkout {
        try await checkout(id: id, clientID: ClientAccessPolicy.client(of: actor, for: .billing))
    }

    public func payments(for actor: Account, kind: Payment.Kind? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Payment] {
        try await payments(clientID: ClientAccessPolicy.client(of: actor, for: .billing), kind: kind, sort: sort, limit: limit, offset: offset)
    }

    public func payment(id: UUID, for actor: Account) async throws -> Payment {
        try await payment(id: id, clientID: ClientAccessPolicy.client(of: actor, for: .billing))
    }

    public func creditBalance(for actor: Account) async throws -> Money {
        try await creditBalance(clientID: ClientAccessPolicy.client(of: actor, for: .billing))
    }

    public func creditEntries(for actor: Account, limit: Int = 100) async throws -> [CreditEntry] {
        try await creditEntries(clientID: ClientAccessPolicy.client(of: actor, for: .billing), limit: limit)
    }
}

extension StripePayments {
    public func pay(for actor: Account, invoiceID: UUID, amount: Int64?, paymentMethod: String?, idempotencyKey: String?) async throws -> IdempotentResult<PayOutcome> {
        try await pay(
            clientID: ClientAccessPolicy.client(of: actor, for: .billing), invoiceID: invoiceID, amount: amount, paymentMethod: paymentMethod,
            idempotencyKey: idempotencyKey
        )
    }

    public func completeCardPage(for actor: Account, invoiceID: UUID, paymentIntentID: String, saveCard: Bool) async throws -> CardReturn {
        try await completeCardPage(
            clientID: ClientAccessPolicy.client(of: actor, for: .billing), invoiceID: invoiceID, paymentIntentID: paymentIntentID, saveCard: saveCard
        )
    }

    public func startCardSetup(for actor: Account, idempotencyKey: String?) async throws -> GatewaySetup {
        try await startCardSetup(clientID: ClientAccessPolicy.client(of: actor, for: .billing), idempotencyKey: idempotencyKey)
    }

    public func saveCard(for actor: Account, setupIntentID: String) async throws -> SavedCardRepository.Card {
        try await saveCard(clientID: ClientAccessPolicy.client(of: actor, for: .billing), setupIntentID: setupIntentID)
    }

    public func cards(for actor: Account, limit: Int, offset: Int) async throws -> [SavedCardRepository.Card] {
        try await cards(clientID: ClientAccessPolicy.client(of: actor, for: .billing), limit: limit, offset: offset)
    }

    public func removeCard(for actor: Account, id: String) async throws {
        try await removeCard(clientID: ClientAccessPolicy.client(of: actor, for: .billing), id: id)
    }
}
