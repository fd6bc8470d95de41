import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// The staff billing pages under `/admin`: clients, products, orders, services, invoices
/// (with a printable view), payments and refunds, API tokens, and an on-demand billing run.
struct BillingAdminPagesController: Sendable {
    let billing: BillingWeb
    let pages: PageRenderer

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        // One guard per group, the same permissions as the API (docs/accounts.md, "Staff permissions").
        let read = router.group("admin").add(middleware: RequirePermission(.clientsRead))
        read.get("clients", use: clients)
        read.get("clients/{id}", use: client)
        read.get("orders", use: orders)
        read.get("orders/{id}", use: order)
        read.get("services", use: services)
        read.get("invoices", use: invoices)
        read.get("invoices/{id}", use: invoice)
        read.get("invoices/{id}/print", use: printable)
        read.get("payments", use: payments)
        let write = router.group("admin").add(middleware: RequirePermission(.clientsWrite))
        write.post("clients/{id}/billing-profile", rerendering: client, use: saveProfile)
        write.post("orders/{id}/{action}", rerendering: order, use: decideOrder)
        write.post("services/{id}/{action}", rerendering: services, use: changeService)
        let catalogue = router.group("admin").add(middleware: RequirePermission(.catalogueManage))
        catalogue.get("products", use: products)
        catalogue.post("product-groups", rerendering: products, use: createGroup)
        catalogue.post("products", rerendering: products, use: createProduct)
        catalogue.get("products/{id}", use: product)
        catalogue.post("products/{id}", rerendering: product, use: updateProduct)
        let manage = router.group("admin").add(middleware: RequirePermission(.billingManage))
        manage.post("clients/{id}/credit", rerendering: client, use: adjustCredit)
        manage.post("invoices", rerendering: draftFormPage, use: createDraft)
        manage.post("invoices/{id}/lines", rerendering: invoice, use: addLine)
        manage.post("invoices/{id}/payments", rerendering: invoice, use: recordPayment)
        manage.post("invoices/{id}/{action}", rerendering: invoice, use: changeInvoice)
        manage.post("billing/run", use: run)
        router.group("admin").add(middleware: RequirePermission(.billingRefund)).post("payments/{id}/refund", rerendering: payments, use: refund)
        let tokens = router.group("admin").add(middleware: RequirePermission(.apiTokens))
        tokens.get("api-tokens", use: self.tokens)
        tokens.post("api-tokens", rerendering: self.tokens, use: createToken)
        tokens.post("api-tokens/{id}/revoke", rerendering: self.tokens, use: revokeToken)
    }

    /// The logged-in staff member (the group's ``RequirePermission`` has admitted them).
    func staff(_ context: PortalRequestContext) throws -> Account {
        try context.requireAccount()
    }

    var currency: Currency { billing.settings.currency }

    // MARK: Clients

    @Sendable func clients(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let search = request.uri.queryParameters.get("search")
        let clients = try await billing.clients.clients(search: search, limit: 200)
        return pages.page("admin-clients", title: "Clients", values: [
            "search": search ?? "",
            "clients": clients.map { client -> [String: Any] in
                [
                    "id": client.id.text, "name": client.name, "email": client.email, "country": client.country ?? "",
                    "outstanding": PageValues.money(client.outstanding, currency), "credit": PageValues.money(client.credit, currency),
                ]
            },
        ], context: context)
    }

    @Sendable func client(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "client")
        let client = try await billing.clients.client(id: id)
        let profile = try await billing.clients.profile(clientID: id)
        let invoices = try await billing.invoices.invoices(clientID: id, limit: 100)
        let services = try await billing.clients.services(clientID: id, limit: 100)
        return pages.page("admin-client", title: client.name, values: [
            "id": id.text, "name": client.name, "email": client.email, "outstanding": PageValues.money(client.outstanding, currency),
            "credit": PageValues.money(client.credit, currency), "country": profile.country ?? "", "region": profile.region ?? "",
            "taxExempt": profile.taxExempt, "currency": currency.code, "idempotencyKey": PageValues.newKey(),
            "invoices": invoices.map { PageValues.invoiceRow($0, base: "/admin/invoices") }, "services": services.map(PageValues.service),
        ], context: context)
    }

    @Sendable func saveProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "client")
        _ = try await billing.clients.client(id: id)
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.clients.updateProfile(clientID: id, country: form["country"], region: form["region"], taxExempt: form.flag("tax_exempt"))
        return redirect(to: "/admin/clients/\(id.text)")
    }

    @Sendable func adjustCredit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let id = try context.id(what: "client")
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.payments.adjustCredit(
            staffID: staff.id, clientID: id, amount: try Money.parse(form["amount"] ?? "", currency: currency), description: form["description"] ?? "",
            idempotencyKey: form["idempotency_key"]
        )
        return redirect(to: "/admin/clients/\(id.text)")
    }

    // MARK: Products

    func productForm(_ product: Product?, groups: [ProductGroup]) -> [String: Any] {
        var values: [String: Any] = [
            "currency": currency.code, "hasGroups": !groups.isEmpty,
            "groups": groups.map { ["id": $0.id.text, "name": $0.name, "selected": $0.id == product?.groupID] as [String: Any] },
            "cycles": BillingCycle.allCases.map { cycle -> [String: Any] in
                let price = product?.pricing[cycle]
                return [
                    "cycle": cycle.rawValue, "label": cycle.label,
                    "price": price.map { Money(minorUnits: $0.recurring, currency: currency).decimalString } ?? "",
                    "setup": price.map { Money(minorUnits: $0.setupFee, currency: currency).decimalString } ?? "",
                ]
            },
        ]
        if let product {
            var fields: [String: Any] = [
                "id": product.id.text, "name": product.name, "description": product.description, "hidden": product.hidden,
                "retired": product.retired, "taxFree": !product.taxable, "sold": product.stockSold,
            ]
            fields["stockLimit"] = product.stockLimit
            values["product"] = fields
            values["options"] = product.options.map { ["name": $0.name, "choices": $0.choices.map(\.name).joined(separator: ", ")] }
            values["hasOptions"] = !product.options.isEmpty
        }
        return values
    }

    func productInput(_ form: FormFields) throws -> CatalogueService.ProductInput {
        guard let group = form["group_id"].flatMap(UUID.init(uuidString:)) else { throw BillingError.invalid("choose a group", field: "group_id") }
        var pricing: [BillingCycle: PricePoint] = [:]
        for cycle in BillingCycle.allCases {
            guard let price = form["price_\(cycle.rawValue)"] else { continue }
            let setup = try form["setup_\(cycle.rawValue)"].map { try Money.parse($0, currency: currency, field: "setup_\(cycle.rawValue)").minorUnits } ?? 0
            pricing[cycle] = try PricePoint(recurring: try Money.parse(price, currency: currency, field: "price_\(cycle.rawValue)").minorUnits, setupFee: setup).validated()
        }
        let stock = try form["stock_limit"].map { text throws(BillingError) -> Int in
            guard let value = Int(text), value >= 0 else { throw BillingError.invalid("the stock limit must be a whole number", field: "stock_limit") }
            return value
        }
        return CatalogueService.ProductInput(
            groupID: group, name: form["name"] ?? "", description: form["description"] ?? "", pricing: pricing, hidden: form.flag("hidden"),
            retired: form.flag("retired"), stockLimit: stock, taxable: !form.flag("tax_free")
        )
    }

    @Sendable func products(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let groups = try await billing.catalogue.groups()
        let names = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0.name) })
        let products = try await billing.catalogue.products().map { product -> [String: Any] in
            [
                "id": product.id.text, "name": product.name, "group": names[product.groupID] ?? "",
                "prices": product.cycles.map { "\($0.label) \(PageValues.money(product.pricing[$0]!.recurring, product.currency))" }.joined(separator: ", "),
                "stock": product.stockLimit.map { "\(product.stockSold) of \($0) sold" } ?? "\(product.stockSold) sold",
                "state": product.retired ? "retired" : product.hidden ? "hidden" : "on sale",
            ]
        }
        var values = productForm(nil, groups: groups)
        values["products"] = products
        return pages.page("admin-products", title: "Products", values: values, context: context)
    }

    @Sendable func createGroup(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.catalogue.createGroup(name: form["name"] ?? "", description: form["description"] ?? "", hidden: form.flag("hidden"))
        return redirect(to: "/admin/products")
    }

    @Sendable func createProduct(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let product = try await billing.catalogue.createProduct(try productInput(form))
        return redirect(to: "/admin/products/\(product.id.text)")
    }

    @Sendable func product(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let product = try await billing.catalogue.product(id: try context.id(what: "product")) else { throw BillingError.notFound("product") }
        return pages.page("admin-product", title: product.name, values: productForm(product, groups: try await billing.catalogue.groups()), context: context)
    }

    @Sendable func updateProduct(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "product")
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.catalogue.updateProduct(id: id, try productInput(form))
        return redirect(to: "/admin/products/\(id.text)")
    }

    // MARK: Orders and services

    @Sendable func orders(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let status = request.uri.queryParameters.get("status").flatMap(OrderStatus.init(rawValue:))
        let orders = try await billing.orders.orders(clientID: nil, status: status, limit: 200)
        return pages.page("admin-orders", title: "Orders", values: ["orders": orders.map(PageValues.order)], context: context)
    }

    @Sendable func order(_ request: Request, context: PortalRequestContext) async throws -> Response {
        var values = PageValues.order(try await billing.orders.order(id: try context.id(what: "order"), clientID: nil))
        values["actions"] = [["action": "accept", "label": "Accept"], ["action": "cancel", "label": "Cancel"], ["action": "fraud", "label": "Refuse as fraud"]]
        return pages.page("admin-order", title: "Order", values: values, context: context)
    }

    @Sendable func decideOrder(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "order")
        switch context.parameters.get("action") {
        case "accept": _ = try await billing.orders.accept(orderID: id)
        case "cancel": _ = try await billing.orders.cancel(orderID: id)
        case "fraud": _ = try await billing.orders.cancel(orderID: id, fraud: true)
        default: throw BillingError.notFound("order action")
        }
        return redirect(to: "/admin/orders/\(id.text)")
    }

    @Sendable func services(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let client = request.uri.queryParameters.get("client_id").flatMap(UUID.init(uuidString:))
        let services = try await billing.clients.services(clientID: client, limit: 200).map { service -> [String: Any] in
            var values = PageValues.service(service)
            values["actions"] = ServiceStatus.Event.allCases.filter { (try? service.status.next(on: $0)) != nil }.map { ["action": $0.rawValue, "id": service.id.text] }
            return values
        }
        return pages.page("admin-services", title: "Services", values: ["services": services], context: context)
    }

    @Sendable func changeService(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "service")
        guard let event = context.parameters.get("action").flatMap(ServiceStatus.Event.init(rawValue:)) else { throw BillingError.notFound("service action") }
        let service = try await billing.clients.changeService(id: id, event: event)
        return redirect(to: "/admin/services?client_id=\(service.clientID.text)")
    }

    // MARK: Invoices and payments

    @Sendable func invoices(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let status = request.uri.queryParameters.get("status").flatMap(InvoiceStatus.init(rawValue:))
        let invoices = try await billing.invoices.invoices(clientID: nil, status: status, limit: 200)
        return pages.page("admin-invoices", title: "Invoices", values: [
            "invoices": invoices.map { PageValues.invoiceRow($0, base: "/admin/invoices") }, "filters": InvoiceStatus.allCases.map(\.rawValue),
        ], context: context)
    }

    @Sendable func createDraft(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        guard let client = form["client_id"].flatMap(UUID.init(uuidString:)) else { throw BillingError.invalid("choose a client", field: "client_id") }
        let invoice = try await billing.invoices.createDraft(clientID: client, dueDate: nil, lines: [
            .init(description: form["description"] ?? "", amount: try Money.parse(form["amount"] ?? "", currency: currency)),
        ])
        return redirect(to: "/admin/invoices/\(invoice.id.text)")
    }

    @Sendable func invoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), clientID: nil)
        let client = try await billing.clients.client(id: invoice.clientID)
        var values = PageValues.invoice(invoice)
        values["clientName"] = client.name
        values["idempotencyKey"] = PageValues.newKey()
        values["payments"] = try await billing.invoices.payments(invoiceID: invoice.id).map(PageValues.payment)
        let actions: [(InvoiceStatus.Event, String, String)] = [(.issue, "issue", "Issue"), (.sendToCollections, "collections", "Send to collections"), (.cancel, "cancel", "Cancel")]
        values["actions"] = actions.filter { (try? invoice.status.next(on: $0.0)) != nil }.map { ["action": $0.1, "label": $0.2] }
        return pages.page("admin-invoice", title: "Invoice", values: values, context: context)
    }

    @Sendable func printable(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), clientID: nil)
        let client = try await billing.clients.client(id: invoice.clientID)
        return pages.standalone("invoice-print", values: BillingPagesController.printValues(invoice, name: client.name, email: client.email, country: client.country))
    }

    @Sendable func addLine(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "invoice")
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.invoices.addLines(invoiceID: id, [.init(description: form["description"] ?? "", amount: try Money.parse(form["amount"] ?? "", currency: currency))])
        return redirect(to: "/admin/invoices/\(id.text)")
    }

    @Sendable func recordPayment(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let id = try context.id(what: "invoice")
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.payments.recordPayment(
            staffID: staff.id, invoiceID: id, amount: try Money.parse(form["amount"] ?? "", currency: currency), transactionID: form["transaction_id"],
            note: form["note"] ?? "", idempotencyKey: form["idempotency_key"]
        )
        return redirect(to: "/admin/invoices/\(id.text)")
    }

    @Sendable func changeInvoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "invoice")
        switch context.parameters.get("action") {
        case "issue": _ = try await billing.invoices.issue(invoiceID: id)
        case "cancel": _ = try await billing.invoices.cancel(invoiceID: id)
        case "collections": _ = try await billing.invoices.sendToCollections(invoiceID: id)
        default: throw BillingError.notFound("invoice action")
        }
        return redirect(to: "/admin/invoices/\(id.text)")
    }

    @Sendable func payments(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let payments = try await billing.payments.payments(clientID: nil, limit: 200)
        return pages.page("admin-payments", title: "Payments", values: ["payments": payments.map(PageValues.payment)], context: context)
    }

    @Sendable func refund(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let id = try context.id(what: "payment")
        let form = try await FormFields.read(request, context: context)
        let amount = try form["amount"].map { try Money.parse($0, currency: currency).minorUnits }
        let result = try await billing.payments.refund(staffID: staff.id, paymentID: id, amount: amount, toCredit: form.flag("to_credit"), idempotencyKey: form["idempotency_key"])
        return redirect(to: "/admin/invoices/\(result.value.invoice.id)")
    }

    // MARK: API tokens and runs

    func tokensPage(created: String?, context: PortalRequestContext) async throws -> Response {
        var values: [String: Any] = [
            "tokens": try await billing.tokens.list(for: try staff(context)).map { token -> [String: Any] in
                [
                    "id": token.id.text, "name": token.name, "created": PageValues.date(token.createdAt),
                    "used": token.lastUsedAt.map(PageValues.date) ?? "never", "revoked": token.revokedAt != nil,
                ]
            },
        ]
        values["created"] = created
        return pages.page("admin-tokens", title: "API tokens", values: values, context: context)
    }

    @Sendable func tokens(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try await tokensPage(created: nil, context: context)
    }

    @Sendable func createToken(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let form = try await FormFields.read(request, context: context)
        let created = try await billing.tokens.create(name: form["name"] ?? "", staff: staff)
        return try await tokensPage(created: created.token, context: context)
    }

    @Sendable func revokeToken(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await billing.tokens.revoke(id: try context.id(what: "API token"), for: try staff(context))
        return redirect(to: "/admin/api-tokens")
    }

    @Sendable func run(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let report = try await billing.recurring.runAll(now: billing.clock.now())
        return pages.page("admin-run", title: "Billing run", values: [
            "renewals": report.renewalInvoices, "credit": report.creditApplications, "fees": report.lateFees, "reminders": report.reminders,
            "suspended": report.suspensions, "unsuspended": report.unsuspensions,
        ], context: context)
    }
}
