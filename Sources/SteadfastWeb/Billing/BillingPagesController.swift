import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// The client area's billing pages: store, cart, orders, services, invoices (with a printable
/// view), paying, credit, billing details, and the test card provider's stand-in payment page.
/// Every page shows only the logged-in client's own things; anything else is "not found".
struct BillingPagesController: Sendable {
    let billing: BillingWeb
    let pages: PageRenderer

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        router.get("store", use: store)
        let billingRoutes = router.group().add(middleware: RequireClientPermission(.billing))
        billingRoutes.post("cart/items", use: addToCart)
        billingRoutes.get("cart", use: cart)
        billingRoutes.post("cart/items/{id}/delete", use: removeFromCart)
        billingRoutes.post("cart/checkout", use: checkout)
        billingRoutes.get("cart/review", use: review)
        billingRoutes.get("clientarea/orders", use: orders)
        billingRoutes.get("clientarea/orders/{id}", use: order)
        billingRoutes.get("clientarea/orders/{id}/confirmation", use: confirmation)
        billingRoutes.get("clientarea/invoices", use: invoices)
        billingRoutes.get("clientarea/invoices/{id}", use: invoice)
        billingRoutes.get("clientarea/invoices/{id}/print", use: printable)
        billingRoutes.post("clientarea/invoices/{id}/pay", use: pay)
        billingRoutes.post("clientarea/invoices/{id}/apply-credit", use: applyCredit)
        billingRoutes.post("clientarea/invoices/{id}/card", use: cardPage)
        billingRoutes.post("clientarea/invoices/{id}/card/return", use: cardReturn)
        billingRoutes.get("clientarea/checkouts/{id}", use: checkoutPage)
        billingRoutes.post("clientarea/checkouts/{id}", use: completeCheckout)
        billingRoutes.get("clientarea/credit", use: credit)
        billingRoutes.get("clientarea/billing-profile", use: profile)
        billingRoutes.post("clientarea/billing-profile", rerendering: profile, use: saveProfile)
        let serviceRoutes = router.group().add(middleware: RequireClientPermission(.services))
        serviceRoutes.get("clientarea/services", use: services)
        serviceRoutes.get("clientarea/services/{id}", use: service)
    }

    /// The catalogue: open to visitors (no account needed to look or to fill a cart).
    @Sendable func store(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let groups = try await billing.catalogue.store().map { entry -> [String: Any] in
            [
                "name": entry.group.name, "description": entry.group.description,
                "products": entry.products.map { product -> [String: Any] in
                    var values: [String: Any] = [
                        "id": product.id.text, "name": product.name, "description": product.description,
                        "prices": product.cycles.map { cycle -> [String: Any] in
                            let price = product.pricing[cycle]!
                            var row: [String: Any] = ["cycle": cycle.rawValue, "label": cycle.label, "price": PageValues.money(price.recurring, product.currency)]
                            if price.setupFee > 0 { row["setup"] = PageValues.money(price.setupFee, product.currency) }
                            return row
                        },
                        "options": product.options.map { option -> [String: Any] in
                            ["id": option.id.text, "name": option.name, "choices": option.choices.map { ["id": $0.id.text, "name": $0.name] }]
                        },
                    ]
                    values["stock"] = product.stockRemaining
                    return values
                },
            ]
        }
        return pages.page("billing/store", title: "Order", values: ["groups": groups], context: context)
    }

    @Sendable func addToCart(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        guard let productID = form["product_id"].flatMap(UUID.init(uuidString:)) else { throw BillingError.invalid("choose a product", field: "product_id") }
        var selections: [UUID: UUID] = [:]
        for (key, value) in form.values where key.hasPrefix("option_") {
            guard let option = UUID(uuidString: String(key.dropFirst(7))), let choice = UUID(uuidString: value) else {
                throw BillingError.invalid("an option choice is not valid", field: "options")
            }
            selections[option] = choice
        }
        let cycle = try BillingCycle(parsing: form["cycle"] ?? "")
        guard let account = context.account else {
            // A visitor: the cart lives under their cart cookie until they log in or register.
            let existing = billing.visitorCart.key(request)
            let key = existing ?? VisitorCart.newKey()
            _ = try await billing.orders.addToVisitorCart(cartKey: key, productID: productID, cycle: cycle, selections: selections)
            context.flash(.success, "Added to your cart.")
            var response = redirect(to: "/cart")
            if existing == nil { response.headers[values: .setCookie].append(billing.visitorCart.setCookie(key)) }
            return response
        }
        _ = try await billing.orders.addToCart(for: account, productID: productID, cycle: cycle, selections: selections)
        context.flash(.success, "Added to your cart.")
        return redirect(to: "/cart")
    }

    @Sendable func cart(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let account = context.account else {
            var quote: (items: [(CartItem, Product, Product.Quote)], totals: InvoiceCalculator.Totals)?
            if let key = billing.visitorCart.key(request) { quote = try await billing.orders.quoteVisitorCart(cartKey: key) }
            let items = quote.map { Self.cartRows($0.items) } ?? []
            var values: [String: Any] = ["items": items, "hasItems": !items.isEmpty]
            if let quote {
                values["subtotal"] = PageValues.money(quote.totals.subtotal)
                values["tax"] = PageValues.money(quote.totals.tax)
                values["total"] = PageValues.money(quote.totals.total)
            }
            return pages.page("store/visitor-cart", title: "Cart", values: values, context: context)
        }
        let quote = try await billing.orders.quoteCart(for: account)
        let items = Self.cartRows(quote.items)
        return pages.page("billing/cart", title: "Cart", values: [
            "items": items, "hasItems": !items.isEmpty, "subtotal": PageValues.money(quote.totals.subtotal), "tax": PageValues.money(quote.totals.tax),
            "total": PageValues.money(quote.totals.total), "idempotencyKey": PageValues.newKey(),
        ], context: context)
    }

    /// Cart rows for the templates.
    static func cartRows(_ items: [(CartItem, Product, Product.Quote)]) -> [[String: Any]] {
        items.map { item, product, price -> [String: Any] in
            let options = price.optionsDescription
            return [
                "id": item.id.text, "name": options.isEmpty ? product.name : "\(product.name) (\(options))", "cycle": item.cycle.label,
                "price": PageValues.money(price.recurring), "setup": PageValues.money(price.setupFee),
            ]
        }
    }

    /// The order review: what will be ordered, who it is billed to, the totals, and the one
    /// button that places it (with a one-time idempotency key).
    @Sendable func review(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let quote = try await billing.orders.quoteCart(for: account)
        guard !quote.items.isEmpty else { return redirect(to: "/cart") }
        let profile = try await billing.clients.profile(for: account)
        let buyer = profile.buyer(accountName: account.name, email: account.email.value)
        return pages.page("store/review", title: "Review your order", values: [
            "items": Self.cartRows(quote.items), "subtotal": PageValues.money(quote.totals.subtotal), "tax": PageValues.money(quote.totals.tax),
            "total": PageValues.money(quote.totals.total), "idempotencyKey": PageValues.newKey(), "buyer": InvoiceDocument.party(buyer),
        ], context: context)
    }

    /// The client's orders, newest first, a page at a time.
    @Sendable func orders(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await ownList(
            request, context, page: "store/orders", title: "Orders", key: "orders", path: "/clientarea/orders",
            empty: EmptyState.values("You have not ordered anything yet.", action: Self.browseTheStore), row: PageValues.order
        ) { try await billing.orders.orders(for: $0, limit: $1, offset: $2) }
    }

    /// One of the client's own lists (orders, services, invoices), newest first, a page at a
    /// time: the one way they read the page asked for, fetch and render.
    private func ownList<Row>(
        _ request: Request, _ context: PortalRequestContext, page template: String, title: String, key: String, path: String,
        empty: [String: Any], row: (Row) -> [String: Any], fetch: (Account, _ limit: Int, _ offset: Int) async throws -> [Row]
    ) async throws -> Response {
        let account = try context.requirePageAccount()
        let page = try context.page(request)
        let list = ListPage(try await fetch(account, page.fetchLimit, page.offset), request: page)
        return pages.page(template, title: title, values: list.values(key, list.rows.map(row), path: path, empty: empty), context: context)
    }

    static let browseTheStore = (href: "/store", label: "Browse the store")

    /// What the client sees after placing an order: the order, its invoice and how to pay it.
    @Sendable func confirmation(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let order = try await billing.orders.order(id: try context.id(what: "order"), for: account)
        var values = PageValues.order(order)
        if let invoiceID = order.invoiceID {
            values["invoice"] = PageValues.invoice(try await billing.invoices.invoice(id: invoiceID, for: account))
        }
        return pages.page("store/confirmation", title: "Thank you for your order", values: values, context: context)
    }

    @Sendable func removeFromCart(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let itemID = try context.id(what: "cart item")
        guard let account = context.account else {
            guard let key = billing.visitorCart.key(request) else { throw BillingError.notFound("cart item") }
            try await billing.orders.removeFromVisitorCart(cartKey: key, itemID: itemID)
            context.flash(.info, "Removed from your cart.")
            return redirect(to: "/cart")
        }
        try await billing.orders.removeFromCart(for: account, itemID: itemID)
        context.flash(.info, "Removed from your cart.")
        return redirect(to: "/cart")
    }

    @Sendable func checkout(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        let result = try await billing.orders.checkout(for: account, idempotencyKey: form["idempotency_key"])
        context.flash(.success, "Thank you: your order is placed. Pay its invoice below to start your services.")
        return redirect(to: "/clientarea/orders/\(result.value.orderID)/confirmation")
    }

    @Sendable func order(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let order = try await billing.orders.order(id: try context.id(what: "order"), for: account)
        return pages.page("billing/order", title: "Order \(order.id.text.prefix(8))", values: PageValues.order(order), context: context)
    }

    @Sendable func services(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await ownList(
            request, context, page: "billing/services", title: "Services", key: "services", path: "/clientarea/services",
            empty: EmptyState.values("You have no services yet.", action: Self.browseTheStore), row: PageValues.service
        ) { try await billing.clients.services(for: $0, limit: $1, offset: $2) }
    }

    @Sendable func service(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let service = try await billing.clients.service(id: try context.id(what: "service"), for: account)
        return pages.page("billing/service", title: service.description, values: PageValues.service(service), context: context)
    }

    @Sendable func invoices(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await ownList(
            request, context, page: "billing/invoices", title: "Invoices", key: "invoices", path: "/clientarea/invoices",
            empty: EmptyState.values("You have no invoices yet."), row: { PageValues.invoiceRow($0, base: "/clientarea/invoices") }
        ) { try await billing.invoices.invoices(for: $0, limit: $1, offset: $2) }
    }

    /// The client's own issued invoice (drafts are not shown to clients).
    func ownInvoice(_ account: Account, _ context: PortalRequestContext) async throws -> Invoice {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), for: account)
        guard invoice.status != .draft else { throw BillingError.notFound("invoice") }
        return invoice
    }

    @Sendable func invoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let invoice = try await ownInvoice(account, context)
        let credit = try await billing.payments.creditBalance(for: account)
        var values = PageValues.invoice(invoice)
        values["idempotencyKey"] = PageValues.newKey()
        values["creditKey"] = PageValues.newKey()
        if credit.isPositive { values["credit"] = PageValues.money(credit) }
        // Stripe is paid on its own card page ("Pay by card"), which needs the publishable key.
        values["gateways"] = billing.settings.gateways.filter { $0 != StripeGateway.name }.sorted()
            .map { ["value": $0, "label": $0 == "testcard" ? "Card (test gateway)" : "Bank transfer"] }
        if let stripe = billing.stripe, stripe.gateway.publishableKey != nil {
            values["cardPayment"] = ["key": PageValues.newKey()]
        }
        let payments = try await billing.invoices.payments(invoiceID: invoice.id)
        values["payments"] = payments.map(PageValues.payment)
        values["hasPayments"] = !payments.isEmpty
        values.merge(try await InvoiceWithCardPayments.pageValues(invoice, stripe: billing.stripe, staff: false)) { $1 }
        return pages.page("billing/invoice", title: "Invoice \(invoice.number ?? "")", values: values, context: context)
    }

    @Sendable func printable(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let invoice = try await ownInvoice(account, context)
        return pages.standalone(InvoiceDocument.template, values: try await billing.documentValues(invoice))
    }

    @Sendable func pay(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let invoiceID = try context.id(what: "invoice")
        let form = try await FormFields.read(request, context: context)
        let gateway = form["gateway"] ?? ""
        let result = try await billing.payments.pay(
            for: account, invoiceID: invoiceID, gateway: gateway, amount: nil, cardToken: nil, idempotencyKey: form["idempotency_key"]
        )
        switch result.value.result {
        case "pending":
            return redirect(to: result.value.checkout?.paymentURL ?? "/clientarea/invoices/\(invoiceID.text)")
        case "instructions":
            return pages.page("billing/bank-transfer", title: "Bank transfer", values: ["id": invoiceID.text, "instructions": result.value.instructions ?? ""], context: context)
        default:
            context.flash(.success, "Thank you: your payment was received.")
            return redirect(to: "/clientarea/invoices/\(invoiceID.text)")
        }
    }

    @Sendable func applyCredit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let invoiceID = try context.id(what: "invoice")
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.payments.applyCredit(for: account, invoiceID: invoiceID, amount: nil, idempotencyKey: form["idempotency_key"])
        context.flash(.success, "Your credit was applied to this invoice.")
        return redirect(to: "/clientarea/invoices/\(invoiceID.text)")
    }

    /// "Pay by card": a PaymentIntent for the balance (the form's one-time key makes a reload or a
    /// double click the same PaymentIntent), and the page with Stripe's card element. Its
    /// Content-Security-Policy adds Stripe.js's origin, and nothing else.
    @Sendable func cardPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let invoiceID = try context.id(what: "invoice")
        guard let stripe = billing.stripe, let publishableKey = stripe.gateway.publishableKey else { throw BillingError.notFound("invoice") }
        let form = try await FormFields.read(request, context: context)
        let result = try await stripe.pay(for: account, invoiceID: invoiceID, amount: nil, paymentMethod: nil, idempotencyKey: form["idempotency_key"])
        guard result.value.result == "pending", let intent = result.value.paymentIntent, let secret = result.value.clientSecret else {
            // Paid meanwhile (this key's PaymentIntent succeeded): the invoice says so.
            return redirect(to: "/clientarea/invoices/\(invoiceID.text)")
        }
        let invoice = try await ownInvoice(account, context)
        var response = pages.page("billing/card-payment", title: "Pay by card", values: [
            "id": invoiceID.text, "number": invoice.number ?? "", "amount": PageValues.money(invoice.balanceDue), "publishableKey": publishableKey,
            "clientSecret": secret, "paymentIntent": intent, "scriptURL": stripe.scriptURL,
        ], context: context)
        let origins = stripe.pageOrigins
        response.headers[.init("Content-Security-Policy")!] = PageRenderer.cardPagePolicy(scriptOrigin: origins.script, frameOrigins: origins.frames, apiOrigin: origins.api)
        return response
    }

    /// The return from the card page: the portal asks Stripe about the PaymentIntent (the
    /// browser's word is not taken) and records the payment once, as the webhook would.
    @Sendable func cardReturn(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let invoiceID = try context.id(what: "invoice")
        guard let stripe = billing.stripe else { throw BillingError.notFound("invoice") }
        let form = try await FormFields.read(request, context: context)
        let outcome = try await stripe.completeCardPage(
            for: account, invoiceID: invoiceID, paymentIntentID: form["payment_intent"] ?? "", saveCard: form["save_card"] == "1"
        )
        switch outcome.result {
        case .paid, .partiallyPaid:
            let saved = outcome.savedCard.map { " Your \($0.brand) card ending in \($0.last4) is saved for future invoices." } ?? ""
            context.flash(.success, "Thank you: your payment was received.\(saved)")
        case .pending:
            context.flash(.info, "Your card payment is not complete yet. This page shows it as soon as Stripe confirms it.")
        case .declined:
            context.flash(.error, "The card payment was declined; nothing was charged. \(outcome.failureMessage ?? "") Try again or choose another way to pay.")
        }
        return redirect(to: "/clientarea/invoices/\(invoiceID.text)")
    }

    @Sendable func checkoutPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let checkout = try await billing.payments.checkout(id: try context.id(what: "checkout"), for: account)
        return pages.page("billing/checkout", title: "Test card payment", values: [
            "id": checkout.id.text, "invoiceID": checkout.invoiceID.text, "amount": PageValues.money(checkout.amount),
            "status": checkout.status.rawValue, "pending": checkout.status == .pending, "badge": Badge.values(checkout.status.rawValue),
        ], context: context)
    }

    /// The stand-in provider takes the "card" and notifies us through the signed webhook path.
    @Sendable func completeCheckout(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let checkoutID = try context.id(what: "checkout")
        let form = try await FormFields.read(request, context: context)
        let succeed = form["outcome"] == "pay"
        let result = try await billing.payments.simulateTestCardCheckout(for: account, checkoutID: checkoutID, succeed: succeed)
        let invoiceID = result.value.invoice?.id ?? ""
        if succeed {
            context.flash(.success, "Thank you: your payment was received.")
        } else {
            context.flash(.error, "The card payment was declined; nothing was charged. Try again or choose another way to pay.")
        }
        return redirect(to: "/clientarea/invoices/\(invoiceID)")
    }

    @Sendable func credit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let balance = try await billing.payments.creditBalance(for: account)
        let entries = try await billing.payments.creditEntries(for: account)
        return pages.page("billing/credit", title: "Credit", values: [
            "balance": PageValues.money(balance),
            "entries": entries.map { ["date": PageValues.date($0.createdAt), "description": $0.description, "amount": PageValues.money($0.amount)] },
        ], context: context)
    }

    @Sendable func profile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let profile = try await billing.clients.profile(for: account)
        return pages.page("billing/profile", title: "Billing details", values: [
            "fields": [
                "country": FormField.make(
                    "country", label: "Country", value: profile.country ?? "", hint: "Two-letter code, e.g. DE or US.", form: "profile", context: context
                ),
                "region": FormField.make(
                    "region", label: "State or region code (optional)", value: profile.region ?? "", hint: "For example NY.", form: "profile", context: context
                ),
            ],
        ], context: context)
    }

    @Sendable func saveProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        guard account.role == .client else { throw HTTPError(.forbidden, message: "Billing details are for clients.") }
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.clients.updateProfile(for: account, country: form["country"], region: form["region"])
        context.flash(.success, "Billing details saved.")
        return redirect(to: "/clientarea/billing-profile")
    }
}
