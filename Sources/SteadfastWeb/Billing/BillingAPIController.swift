import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// The client side of the billing API under `/api/v1`: catalogue, cart, orders, services,
/// invoices, paying, credit and billing details. Every look-up carries the caller's own id, so
/// another client's objects are 404 — never 403, which would say they exist.
struct BillingAPIController: Sendable {
    let billing: BillingWeb

    struct AddToCart: Decodable {
        let productId: UUID
        let cycle: String
        let options: [String: String]?
    }

    struct Pay: Decodable {
        let gateway: String
        let amount: Int64?
        let cardToken: String?
        /// Stripe: a PaymentMethod id (`pm_...`) to confirm with on the server.
        let paymentMethod: String?
    }

    struct ApplyCredit: Decodable {
        let amount: Int64?
    }

    struct Profile: Decodable {
        let country: String?
        let region: String?
        /// Who invoices are made out to; all three absent: unchanged.
        let legalName: String?
        let address: String?
        let taxId: String?

        var identity: ClientBillingService.Identity? {
            legalName == nil && address == nil && taxId == nil ? nil : .init(legalName: legalName, address: address, taxID: taxId)
        }
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        api.get("catalogue", use: catalogue)
        api.get("catalogue/products/{id}", use: product)
        let billingRoutes = api.group().add(middleware: RequireClientPermission(.billing))
        billingRoutes.get("cart", use: cart)
        billingRoutes.post("cart/items", use: addToCart)
        billingRoutes.delete("cart/items/{id}", use: removeFromCart)
        billingRoutes.post("cart/checkout", use: checkout)
        billingRoutes.get("orders", use: orders)
        billingRoutes.get("orders/{id}", use: order)
        billingRoutes.get("invoices", use: invoices)
        billingRoutes.get("invoices/{id}", use: invoice)
        billingRoutes.post("invoices/{id}/pay", use: pay)
        billingRoutes.post("invoices/{id}/apply-credit", use: applyCredit)
        billingRoutes.get("checkouts/{id}", use: checkoutStatus)
        billingRoutes.get("payments", use: payments)
        billingRoutes.get("payments/{id}", use: payment)
        billingRoutes.get("credit", use: credit)
        billingRoutes.get("billing-profile", use: profile)
        billingRoutes.put("billing-profile", use: updateProfile)
        let serviceRoutes = api.group().add(middleware: RequireClientPermission(.services))
        serviceRoutes.get("services", use: services)
        serviceRoutes.get("services/{id}", use: service)
    }

    /// The catalogue is public, like the store page: no account needed to look.
    @Sendable func catalogue(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let groups = try await billing.catalogue.store()
        return try context.responseEncoder.encode(["groups": groups.map { BillingViews.GroupView($0.group, products: $0.products) }], from: request, context: context)
    }

    @Sendable func product(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let product = try await billing.catalogue.product(id: try context.id(what: "product")), !product.retired else {
            throw BillingError.notFound("product")
        }
        return try context.responseEncoder.encode(BillingViews.ProductView(product), from: request, context: context)
    }

    @Sendable func cart(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(try await cartView(for: try context.requireAccount()), from: request, context: context)
    }

    func cartView(for account: Account) async throws -> BillingViews.CartView {
        let quote = try await billing.orders.quoteCart(for: account)
        let items = quote.items.map { item, product, price in
            BillingViews.CartItemView(
                id: item.id.text, productId: product.id.text, productName: product.name, cycle: item.cycle.rawValue,
                selections: Dictionary(uniqueKeysWithValues: item.selections.map { ($0.key.text, $0.value.text) }),
                recurring: price.recurring.minorUnits, setupFee: price.setupFee.minorUnits
            )
        }
        return BillingViews.CartView(
            items: items, currency: quote.totals.total.currency.code, subtotal: quote.totals.subtotal.minorUnits, tax: quote.totals.tax.minorUnits,
            total: quote.totals.total.minorUnits
        )
    }

    @Sendable func addToCart(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let input = try await request.decode(as: AddToCart.self, context: context)
        var selections: [UUID: UUID] = [:]
        for (option, choice) in input.options ?? [:] {
            guard let optionID = UUID(uuidString: option), let choiceID = UUID(uuidString: choice) else {
                throw BillingError.invalid("options maps option ids to choice ids", field: "options")
            }
            selections[optionID] = choiceID
        }
        _ = try await billing.orders.addToCart(for: account, productID: input.productId, cycle: try BillingCycle(parsing: input.cycle), selections: selections)
        return try context.responseEncoder.encode(try await cartView(for: account), status: .created, from: request, context: context)
    }

    @Sendable func removeFromCart(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        try await billing.orders.removeFromCart(for: account, itemID: try context.id(what: "cart item"))
        return try context.responseEncoder.encode(try await cartView(for: account), from: request, context: context)
    }

    @Sendable func checkout(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let result = try await billing.orders.checkout(for: account, idempotencyKey: request.headers[BillingJSON.idempotencyKey])
        return BillingJSON.idempotent(result, status: .created)
    }

    @Sendable func orders(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await context.pagedJSON(request, item: { BillingViews.OrderView($0, withItems: false) }) { try await billing.orders.orders(for: account, limit: $0, offset: $1) }
    }

    @Sendable func order(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(BillingViews.OrderView(try await billing.orders.order(id: try context.id(what: "order"), for: account)), from: request, context: context)
    }

    @Sendable func services(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await context.pagedJSON(request, item: BillingViews.ServiceView.init) { try await billing.clients.services(for: account, limit: $0, offset: $1) }
    }

    @Sendable func service(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(BillingViews.ServiceView(try await billing.clients.service(id: try context.id(what: "service"), for: account)), from: request, context: context)
    }

    @Sendable func invoices(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await context.pagedJSON(request, item: { BillingViews.InvoiceView($0, withLines: false) }) { try await billing.invoices.invoices(for: account, limit: $0, offset: $1) }
    }

    @Sendable func invoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let invoice = try await clientInvoice(account: account, context: context)
        return try context.responseEncoder.encode(try await InvoiceWithCardPayments.load(invoice, stripe: billing.stripe, staff: false), from: request, context: context)
    }

    /// The caller's own invoice (drafts are staff-only: 404 for clients).
    func clientInvoice(account: Account, context: PortalRequestContext) async throws -> Invoice {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), for: account)
        guard invoice.status != .draft else { throw BillingError.notFound("invoice") }
        return invoice
    }

    @Sendable func pay(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let invoiceID = try context.id(what: "invoice")
        let input = try await request.decode(as: Pay.self, context: context)
        // Every gateway through one call: the service asks the gateway by the contract.
        let result = try await billing.payments.pay(
            for: account, invoiceID: invoiceID, gateway: input.gateway, amount: input.amount, cardToken: input.cardToken,
            paymentMethod: input.paymentMethod, idempotencyKey: request.headers[BillingJSON.idempotencyKey]
        )
        return BillingJSON.idempotent(result, status: result.value.result == "pending" ? .accepted : .ok)
    }

    @Sendable func applyCredit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let invoiceID = try context.id(what: "invoice")
        let input = try await request.decode(as: ApplyCredit.self, context: context)
        let result = try await billing.payments.applyCredit(
            for: account, invoiceID: invoiceID, amount: input.amount, idempotencyKey: request.headers[BillingJSON.idempotencyKey]
        )
        return BillingJSON.idempotent(result)
    }

    @Sendable func checkoutStatus(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(BillingViews.CheckoutView(try await billing.payments.checkout(id: try context.id(what: "checkout"), for: account)), from: request, context: context)
    }

    @Sendable func payments(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await context.pagedJSON(request, item: PaymentRecord.init) { try await billing.payments.payments(for: account, limit: $0, offset: $1) }
    }

    @Sendable func payment(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(PaymentRecord(try await billing.payments.payment(id: try context.id(what: "payment"), for: account)), from: request, context: context)
    }

    @Sendable func credit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let balance = try await billing.payments.creditBalance(for: account)
        let entries = try await billing.payments.creditEntries(for: account)
        return try context.responseEncoder.encode(BillingViews.CreditView(balance: balance.minorUnits, currency: balance.currency.code, entries: entries.map(BillingViews.CreditEntryView.init)), from: request, context: context)
    }

    @Sendable func profile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(BillingViews.ProfileView(try await billing.clients.profile(for: account)), from: request, context: context)
    }

    @Sendable func updateProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        guard account.role == .client else { throw HTTPError(.forbidden, message: "billing details are for clients") }
        let input = try await request.decode(as: Profile.self, context: context)
        let profile = try await billing.clients.updateProfile(
            for: account, country: input.country, region: input.region, identity: input.identity
        )
        return try context.responseEncoder.encode(BillingViews.ProfileView(profile), from: request, context: context)
    }
}
