import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The staff billing pages under `/admin`: clients, products, orders, services, invoices
/// (with a printable view), payments and refunds, API tokens, and an on-demand billing run.
struct BillingAdminPagesController: Sendable {
    let billing: BillingWeb
    let pages: PageRenderer
    /// Names for list rows (clients, invoice numbers) in one query per page.
    let figures: PortalFiguresRepository

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
        let table = try SortableTable(request, columns: ClientRepository.sortColumns, path: "/admin/clients", filters: ["search": search ?? ""])
        let list = try await table.fetch { try await billing.clients.clients(search: search, sort: $0, limit: $1, offset: $2) }
        let rows = list.rows.map { client -> [String: Any] in
            [
                "id": client.id.text, "name": client.name, "email": client.email, "country": client.country ?? "",
                "outstanding": PageValues.money(client.outstanding, currency), "credit": PageValues.money(client.credit, currency),
            ]
        }
        var values = table.values("clients", list, rows: rows, empty: EmptyState.values(
            search == nil ? "No clients have registered yet." : "No client matches “\(search!)”."
        ), headings: [
            table.column("Name", key: "name"), table.column("E-mail", key: "email"), table.column("Country", key: "country"),
            table.column("Outstanding", key: "outstanding", numeric: true), table.column("Credit", key: "credit", numeric: true),
        ])
        values["search"] = search ?? ""
        return pages.page("admin/clients", title: "Clients", values: values, context: context)
    }

    @Sendable func client(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await clientPage(id: try context.id(what: "client"), context: context)
    }

    /// The client page the "new invoice" form was posted from (its `client_id`).
    @Sendable func draftFormPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        guard let id = form["client_id"].flatMap(UUID.init(uuidString:)) else { throw BillingError.notFound("client") }
        return try await clientPage(id: id, context: context)
    }

    func clientPage(id: UUID, context: PortalRequestContext) async throws -> Response {
        let client = try await billing.clients.client(id: id)
        let profile = try await billing.clients.profile(clientID: id)
        let invoices = try await billing.invoices.invoices(clientID: id, limit: 100)
        let services = try await billing.clients.services(clientID: id, limit: 100)
        func field(_ name: String, _ label: String, _ value: String = "", kind: FormField.Kind = .text(type: "text"), hint: String? = nil, required: Bool = false, form: String) -> [String: Any] {
            FormField.make(name, label: label, value: value, kind: kind, hint: hint, required: required, form: form, context: context)
        }
        return pages.page("admin/client", title: client.name, values: [
            "id": id.text, "name": client.name, "email": client.email, "outstanding": PageValues.money(client.outstanding, currency),
            "credit": PageValues.money(client.credit, currency), "currency": currency.code, "idempotencyKey": PageValues.newKey(),
            "invoices": invoices.map { PageValues.invoiceRow($0, base: "/admin/invoices") }, "services": services.map(PageValues.service),
            "fields": [
                "country": field("country", "Country", profile.country ?? "", hint: "Two-letter code, e.g. DE or US.", form: "profile"),
                "region": field("region", "State or region code (optional)", profile.region ?? "", form: "profile"),
                "taxExempt": field("tax_exempt", "Tax-exempt", profile.taxExempt ? "1" : "", kind: .checkbox, form: "profile"),
                "creditAmount": field("amount", "Amount (\(currency.code))", hint: "A negative amount removes credit.", required: true, form: "credit"),
                "creditDescription": field("description", "Description", required: true, form: "credit"),
                "draftDescription": field("description", "Description", required: true, form: "draft"),
                "draftAmount": field("amount", "Amount (\(currency.code))", required: true, form: "draft"),
            ],
        ], context: context)
    }

    @Sendable func saveProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "client")
        let client = try await billing.clients.client(id: id)
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.clients.updateProfile(clientID: id, country: form["country"], region: form["region"], taxExempt: form.flag("tax_exempt"))
        context.flash(.success, "Billing details of \(client.name) saved.")
        return redirect(to: "/admin/clients/\(id.text)")
    }

    @Sendable func adjustCredit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let id = try context.id(what: "client")
        let form = try await FormFields.read(request, context: context)
        let amount = try Money.parse(form["amount"] ?? "", currency: currency)
        _ = try await billing.payments.adjustCredit(
            staffID: staff.id, clientID: id, amount: amount, description: form["description"] ?? "",
            idempotencyKey: form["idempotency_key"]
        )
        context.flash(.success, "Credit adjusted by \(amount.formatted).")
        return redirect(to: "/admin/clients/\(id.text)")
    }

    // MARK: Products

    func productForm(_ product: Product?, groups: [ProductGroup], context: PortalRequestContext) -> [String: Any] {
        func field(_ name: String, _ label: String, _ value: String = "", kind: FormField.Kind = .text(type: "text"), hint: String? = nil, required: Bool = false, form: String = "product") -> [String: Any] {
            FormField.make(name, label: label, value: value, kind: kind, hint: hint, required: required, form: form, context: context)
        }
        func decimal(_ minor: Int64) -> String { Money(minorUnits: minor, currency: currency).decimalString }
        var values: [String: Any] = [
            "currency": currency.code, "hasGroups": !groups.isEmpty,
            "cycles": BillingCycle.allCases.map { cycle -> [String: Any] in
                let price = product?.pricing[cycle]
                return [
                    "label": cycle.label,
                    "price": field("price_\(cycle.rawValue)", "\(cycle.label) price", price.map { decimal($0.recurring) } ?? ""),
                    "setup": field("setup_\(cycle.rawValue)", "\(cycle.label) setup fee", price.map { decimal($0.setupFee) } ?? ""),
                ]
            },
            "fields": [
                "group": field("group_id", "Group", product?.groupID.text ?? "", kind: .select(groups.map { (value: $0.id.text, label: $0.name) })),
                "name": field("name", "Name", product?.name ?? "", required: true),
                "description": field("description", "Description", product?.description ?? ""),
                "stock": field("stock_limit", "Stock limit", product?.stockLimit.map(String.init) ?? "", hint: "Leave empty for unlimited stock."),
                "hidden": field("hidden", "Hidden from the store", product?.hidden == true ? "1" : "", kind: .checkbox),
                "retired": field("retired", "Retired (no new orders)", product?.retired == true ? "1" : "", kind: .checkbox),
                "taxFree": field("tax_free", "Not taxable", product.map { $0.taxable ? "" : "1" } ?? "", kind: .checkbox),
                "groupName": field("name", "Name", required: true, form: "group"),
                "groupDescription": field("description", "Description", form: "group"),
                "groupHidden": field("hidden", "Hidden from the store", kind: .checkbox, form: "group"),
            ],
        ]
        if let product {
            values["product"] = ["id": product.id.text, "name": product.name, "sold": product.stockSold] as [String: Any]
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
        let state = try ListChoice<CatalogueRepository.SaleState>(request, "state")
        let table = try SortableTable(request, columns: CatalogueRepository.sortColumns, path: "/admin/products", filters: ["state": state.text])
        let groups = try await billing.catalogue.groups()
        let names = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0.name) })
        let list = try await table.fetch { try await billing.catalogue.products(state: state.selected, sort: $0, limit: $1, offset: $2) }
        let products = list.rows.map { product -> [String: Any] in
            let state = product.retired ? "retired" : product.hidden ? "hidden" : "on sale"
            return [
                "id": product.id.text, "name": product.name, "group": names[product.groupID] ?? "",
                "prices": product.cycles.map { "\($0.label) \(PageValues.money(product.pricing[$0]!.recurring, product.currency))" }.joined(separator: ", "),
                "stock": product.stockLimit.map { "\(product.stockSold) of \($0) sold" } ?? "\(product.stockSold) sold",
                "state": state, "badge": Badge.values(state),
            ]
        }
        var values = productForm(nil, groups: groups, context: context)
        values.merge(table.values("products", list, rows: products, empty: EmptyState.values(
            state.selected == nil ? "No products yet. Create a group, then a product in it." : "No \(state.text.replacingOccurrences(of: "_", with: " ")) products."
        ), headings: [
            table.column("Product", key: "name"), table.column("Group", key: "group"), table.column("Prices"),
            table.column("Stock", key: "stock"), table.column("State", key: "state"),
        ])) { $1 }
        values["states"] = state.options { $0.rawValue.replacingOccurrences(of: "_", with: " ") }
        return pages.page("admin/products", title: "Products", values: values, context: context)
    }

    @Sendable func createGroup(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let group = try await billing.catalogue.createGroup(name: form["name"] ?? "", description: form["description"] ?? "", hidden: form.flag("hidden"))
        context.flash(.success, "Product group \(group.name) created.")
        return redirect(to: "/admin/products")
    }

    @Sendable func createProduct(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let product = try await billing.catalogue.createProduct(try productInput(form))
        context.flash(.success, "Product \(product.name) created.")
        return redirect(to: "/admin/products/\(product.id.text)")
    }

    @Sendable func product(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let product = try await billing.catalogue.product(id: try context.id(what: "product")) else { throw BillingError.notFound("product") }
        return pages.page("admin/product", title: product.name, values: productForm(product, groups: try await billing.catalogue.groups(), context: context), context: context)
    }

    @Sendable func updateProduct(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "product")
        let form = try await FormFields.read(request, context: context)
        let product = try await billing.catalogue.updateProduct(id: id, try productInput(form))
        context.flash(.success, "Product \(product.name) saved.")
        return redirect(to: "/admin/products/\(id.text)")
    }

    // MARK: Orders and services

    /// Staff list rows with their client's name (`clientName`), the page's clients looked up at once.
    func rowsNamingClients<Row>(_ rows: [Row], clientID: (Row) -> UUID, _ values: (Row) -> [String: Any]) async throws -> [[String: Any]] {
        let names = try await figures.accountNames(Set(rows.map(clientID)))
        return rows.map { row in
            var shown = values(row)
            shown["clientName"] = names[clientID(row)] ?? "unknown client"
            return shown
        }
    }

    @Sendable func orders(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let status = try ListChoice<OrderStatus>(request, "status")
        let table = try SortableTable(request, columns: OrderRepository.sortColumns, path: "/admin/orders", filters: ["status": status.text])
        let list = try await table.fetch { try await billing.orders.orders(clientID: nil, status: status.selected, sort: $0, limit: $1, offset: $2) }
        let rows = try await rowsNamingClients(list.rows, clientID: \.clientID, PageValues.order)
        var values = table.values("orders", list, rows: rows, empty: EmptyState.values(
            status.selected.map { "No \($0.rawValue) orders." } ?? "No orders yet."
        ), headings: [
            table.column("Order"), table.column("Placed", key: "created"), table.column("Client", key: "client"), table.column("Items"),
            table.column("Status", key: "status"),
        ])
        values["statuses"] = status.options()
        return pages.page("admin/orders", title: "Orders", values: values, context: context)
    }

    @Sendable func order(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let order = try await billing.orders.order(id: try context.id(what: "order"), clientID: nil)
        let client = try await billing.clients.client(id: order.clientID)
        var values = PageValues.order(order)
        let short = String(order.id.text.prefix(8))
        values["clientName"] = client.name
        values["confirms"] = [
            ConfirmAction.values(
                label: "Cancel order…", action: "/admin/orders/\(order.id.text)/cancel",
                question: "Cancel order \(short) of \(client.name)? Its invoice is cancelled too.", confirmLabel: "Yes, cancel the order"
            ),
            ConfirmAction.values(
                label: "Refuse as fraud…", action: "/admin/orders/\(order.id.text)/fraud",
                question: "Refuse order \(short) of \(client.name) as fraud?", confirmLabel: "Yes, refuse as fraud"
            ),
        ]
        return pages.page("admin/order", title: "Order \(short) for \(client.name)", values: values, context: context)
    }

    @Sendable func decideOrder(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "order")
        let short = String(id.text.prefix(8))
        switch context.parameters.get("action") {
        case "accept":
            _ = try await billing.orders.accept(orderID: id)
            context.flash(.success, "Order \(short) accepted.")
        case "cancel":
            _ = try await billing.orders.cancel(orderID: id)
            context.flash(.warning, "Order \(short) cancelled.")
        case "fraud":
            _ = try await billing.orders.cancel(orderID: id, fraud: true)
            context.flash(.warning, "Order \(short) refused as fraud.")
        default: throw BillingError.notFound("order action")
        }
        return redirect(to: "/admin/orders/\(id.text)")
    }

    @Sendable func services(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let clientID = request.uri.queryParameters.get("client_id").flatMap(UUID.init(uuidString:))
        let status = try ListChoice<ServiceStatus>(request, "status")
        let filters = ["client_id": clientID?.text ?? "", "status": status.text]
        let table = try SortableTable(request, columns: ServiceRepository.sortColumns, path: "/admin/services", filters: filters)
        let list = try await table.fetch { try await billing.clients.services(clientID: clientID, status: status.selected, sort: $0, limit: $1, offset: $2) }
        let names = try await figures.accountNames(Set(list.rows.map(\.clientID) + (clientID.map { [$0] } ?? [])))
        let destructive: Set<ServiceStatus.Event> = [.terminate, .cancel]
        let rows = list.rows.map { service -> [String: Any] in
            var values = PageValues.service(service)
            let clientName = names[service.clientID] ?? "unknown client"
            let short = String(service.id.text.prefix(8))
            values["clientName"] = clientName
            values["description"] = "\(service.description) #\(short)"
            let events = ServiceStatus.Event.allCases.filter { (try? service.status.next(on: $0)) != nil }
            values["actions"] = events.filter { !destructive.contains($0) }.map { ["action": $0.rawValue, "id": service.id.text, "label": $0.rawValue.capitalized] }
            values["confirms"] = events.filter { destructive.contains($0) }.map { event in
                ConfirmAction.values(
                    label: "\(event.rawValue.capitalized)…", action: "/admin/services/\(service.id.text)/\(event.rawValue)",
                    question: "\(event.rawValue.capitalized) \(service.description) #\(short) of \(clientName)? This cannot be undone.",
                    confirmLabel: "Yes, \(event.rawValue)"
                )
            }
            return values
        }
        var values = table.values("services", list, rows: rows, empty: EmptyState.values("No services match."), headings: [
            table.column("Service", key: "service"), table.column("Client", key: "client"), table.column("Status", key: "status"),
            table.column("Price", key: "amount", numeric: true), table.column("Next due", key: "next_due"), table.column("Actions"),
        ])
        values["statuses"] = status.options()
        values["clientID"] = clientID?.text
        values["clientName"] = clientID.flatMap { names[$0] }
        return pages.page("admin/services", title: "Services", values: values, context: context)
    }

    @Sendable func changeService(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "service")
        guard let event = context.parameters.get("action").flatMap(ServiceStatus.Event.init(rawValue:)) else { throw BillingError.notFound("service action") }
        let service = try await billing.clients.changeService(id: id, event: event)
        context.flash(.success, "\(service.description) #\(id.text.prefix(8)) is now \(service.status.rawValue).")
        return redirect(to: "/admin/services?client_id=\(service.clientID.text)")
    }

    // MARK: Invoices and payments

    @Sendable func invoices(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let status = try ListChoice<InvoiceStatus>(request, "status")
        let table = try SortableTable(request, columns: InvoiceRepository.sortColumns, path: "/admin/invoices", filters: ["status": status.text])
        let list = try await table.fetch { try await billing.invoices.invoices(clientID: nil, status: status.selected, sort: $0, limit: $1, offset: $2) }
        let rows = try await rowsNamingClients(list.rows, clientID: \.clientID) { PageValues.invoiceRow($0, base: "/admin/invoices") }
        var values = table.values("invoices", list, rows: rows, empty: EmptyState.values(
            status.selected.map { "No \($0.rawValue) invoices." } ?? "No invoices yet."
        ), headings: [
            table.column("Number", key: "number"), table.column("Client", key: "client"), table.column("Issued", key: "issued"),
            table.column("Due", key: "due"), table.column("Status", key: "status"), table.column("Total", key: "total", numeric: true),
            table.column("Balance", key: "balance", numeric: true),
        ])
        values["showClient"] = true
        values["statuses"] = status.options()
        values["totals"] = Self.totals(list.rows, currency: currency).map { ["span": 5, "total": $0.total, "balance": $0.balance] as [String: Any] }
        return pages.page("admin/invoices", title: "Invoices", values: values, context: context)
    }

    /// The sums of a page of invoices in the billing currency (nil if one is in another
    /// currency or a sum would overflow: then no total row, never a wrong one).
    static func totals(_ invoices: [Invoice], currency: Currency) -> (total: String, balance: String)? {
        var total: Int64 = 0
        var balance: Int64 = 0
        for invoice in invoices {
            guard invoice.currency == currency else { return nil }
            let (newTotal, overflowA) = total.addingReportingOverflow(invoice.total.minorUnits)
            let (newBalance, overflowB) = balance.addingReportingOverflow(invoice.balanceDue.minorUnits)
            guard !overflowA, !overflowB else { return nil }
            (total, balance) = (newTotal, newBalance)
        }
        return invoices.isEmpty ? nil : (PageValues.money(total, currency), PageValues.money(balance, currency))
    }

    @Sendable func createDraft(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        guard let client = form["client_id"].flatMap(UUID.init(uuidString:)) else { throw BillingError.invalid("choose a client", field: "client_id") }
        let invoice = try await billing.invoices.createDraft(clientID: client, dueDate: nil, lines: [
            .init(description: form["description"] ?? "", amount: try Money.parse(form["amount"] ?? "", currency: currency)),
        ])
        context.flash(.success, "Draft invoice created: add lines, then issue it.")
        return redirect(to: "/admin/invoices/\(invoice.id.text)")
    }

    @Sendable func invoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), clientID: nil)
        let client = try await billing.clients.client(id: invoice.clientID)
        var values = PageValues.invoice(invoice)
        let number = invoice.number ?? "(draft)"
        values["clientName"] = client.name
        values["idempotencyKey"] = PageValues.newKey()
        values["payments"] = try await billing.invoices.payments(invoiceID: invoice.id).map(PageValues.payment)
        values["actions"] = (try? invoice.status.next(on: .issue)) != nil ? [["action": "issue", "label": "Issue"]] : []
        let confirms: [(InvoiceStatus.Event, String, String, String)] = [
            (.sendToCollections, "collections", "Send to collections…", "Send invoice \(number) of \(client.name) to collections?"),
            (.cancel, "cancel", "Cancel invoice…", "Cancel invoice \(number) of \(client.name)? The client will no longer be asked to pay it."),
        ]
        values["confirms"] = confirms.filter { (try? invoice.status.next(on: $0.0)) != nil }.map {
            ConfirmAction.values(label: $0.2, action: "/admin/invoices/\(invoice.id.text)/\($0.1)", question: $0.3, confirmLabel: "Yes, " + $0.2.dropLast().lowercased())
        }
        func field(_ name: String, _ label: String, _ value: String = "", hint: String? = nil, required: Bool = false, form: String) -> [String: Any] {
            FormField.make(name, label: label, value: value, hint: hint, required: required, form: form, context: context)
        }
        values["fields"] = [
            "lineDescription": field("description", "Description", required: true, form: "line"),
            "lineAmount": field("amount", "Amount (\(currency.code))", required: true, form: "line"),
            "paymentAmount": field("amount", "Amount (\(invoice.currency.code))", invoice.balanceDue.decimalString, required: true, form: "payment"),
            "reference": field("transaction_id", "Bank reference (optional)", form: "payment"),
            "note": field("note", "Note (optional)", form: "payment"),
        ]
        values.merge(try await InvoiceWithCardPayments.pageValues(invoice, stripe: billing.stripe, staff: true)) { $1 }
        return pages.page("admin/invoice", title: "Invoice \(number) for \(client.name)", values: values, context: context)
    }

    @Sendable func printable(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), clientID: nil)
        return pages.standalone(InvoiceDocument.template, values: try await billing.documentValues(invoice))
    }

    @Sendable func addLine(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "invoice")
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.invoices.addLines(invoiceID: id, [.init(description: form["description"] ?? "", amount: try Money.parse(form["amount"] ?? "", currency: currency))])
        context.flash(.success, "Line added.")
        return redirect(to: "/admin/invoices/\(id.text)")
    }

    @Sendable func recordPayment(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let id = try context.id(what: "invoice")
        let form = try await FormFields.read(request, context: context)
        let amount = try Money.parse(form["amount"] ?? "", currency: currency)
        _ = try await billing.payments.recordPayment(
            staffID: staff.id, invoiceID: id, amount: amount, transactionID: form["transaction_id"],
            note: form["note"] ?? "", idempotencyKey: form["idempotency_key"]
        )
        context.flash(.success, "Payment of \(amount.formatted) recorded.")
        return redirect(to: "/admin/invoices/\(id.text)")
    }

    @Sendable func changeInvoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "invoice")
        switch context.parameters.get("action") {
        case "issue":
            let invoice = try await billing.invoices.issue(invoiceID: id)
            context.flash(.success, "Invoice \(invoice.number ?? "") issued.")
        case "cancel":
            _ = try await billing.invoices.cancel(invoiceID: id)
            context.flash(.warning, "Invoice cancelled.")
        case "collections":
            _ = try await billing.invoices.sendToCollections(invoiceID: id)
            context.flash(.warning, "Invoice sent to collections.")
        default: throw BillingError.notFound("invoice action")
        }
        return redirect(to: "/admin/invoices/\(id.text)")
    }

    @Sendable func payments(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let kind = try ListChoice<Payment.Kind>(request, "kind")
        let table = try SortableTable(request, columns: PaymentRepository.sortColumns, path: "/admin/payments", filters: ["kind": kind.text])
        let list = try await table.fetch { try await billing.payments.payments(clientID: nil, kind: kind.selected, sort: $0, limit: $1, offset: $2) }
        let labels = try await figures.invoiceLabels(Set(list.rows.map(\.invoiceID)))
        let names = try await figures.accountNames(Set(labels.values.map(\.clientID)))
        var sum: Int64? = 0
        let rows = list.rows.map { payment -> [String: Any] in
            var row = PageValues.payment(payment)
            let label = labels[payment.invoiceID]
            row["invoiceNumber"] = label?.number ?? "draft invoice"
            row["clientID"] = label?.clientID.text ?? ""
            row["clientName"] = label.flatMap { names[$0.clientID] } ?? "unknown client"
            let form = "refund-" + payment.id.text
            row["fields"] = [
                "amount": FormField.make("amount", label: "Amount to refund (\(payment.amount.currency.code))", hint: "Leave empty to refund all of it.", form: form, context: context),
                "toCredit": FormField.make("to_credit", label: "As account credit instead of money back", kind: .checkbox, form: form, context: context),
            ]
            if let current = sum, payment.amount.currency == currency {
                let (next, overflow) = current.addingReportingOverflow(payment.amount.minorUnits)
                sum = overflow ? nil : next
            } else {
                sum = nil
            }
            return row
        }
        var values = table.values("payments", list, rows: rows, empty: EmptyState.values(kind.selected.map { "No \($0.rawValue)s." } ?? "No payments yet."), headings: [
            table.column("Date", key: "created"), table.column("Invoice", key: "invoice"), table.column("Client", key: "client"),
            table.column("Method", key: "gateway"), table.column("Kind", key: "kind"), table.column("Amount", key: "amount", numeric: true), table.column("Refund"),
        ])
        values["kinds"] = kind.options()
        values["pageTotal"] = sum.map { PageValues.money($0, currency) } ?? "—"
        return pages.page("admin/payments", title: "Payments", values: values, context: context)
    }

    @Sendable func refund(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let id = try context.id(what: "payment")
        let form = try await FormFields.read(request, context: context)
        let amount = try form["amount"].map { try Money.parse($0, currency: currency).minorUnits }
        let result = try await billing.payments.refund(staffID: staff.id, paymentID: id, amount: amount, toCredit: form.flag("to_credit"), idempotencyKey: form["idempotency_key"])
        context.flash(.success, form.flag("to_credit") ? "Refunded as account credit." : "Refund recorded.")
        return redirect(to: "/admin/invoices/\(result.value.invoice.id)")
    }

    // MARK: API tokens and runs

    func tokensPage(created: String?, request: Request, context: PortalRequestContext) async throws -> Response {
        let state = try ListChoice<APITokenRepository.State>(request, "state")
        let table = try SortableTable(request, columns: APITokenRepository.sortColumns, path: "/admin/api-tokens", filters: ["state": state.text])
        let staff = try staff(context)
        let list = try await table.fetch { try await billing.tokens.list(for: staff, state: state.selected, sort: $0, limit: $1, offset: $2) }
        let rows = list.rows.map { token -> [String: Any] in
            [
                "id": token.id.text, "name": token.name, "created": PageValues.date(token.createdAt),
                "used": token.lastUsedAt.map(PageValues.date) ?? "never", "expires": token.expiresAt.map(PageValues.date) ?? "never",
                "revoked": token.revokedAt != nil, "badge": Badge.values("revoked"),
                "confirm": ConfirmAction.values(
                    label: "Revoke…", action: "/admin/api-tokens/\(token.id.text)/revoke",
                    question: "Revoke the token \(token.name)? Anything using it stops working at once.", confirmLabel: "Yes, revoke it"
                ),
            ]
        }
        var values = table.values("tokens", list, rows: rows, empty: EmptyState.values(
            state.selected == nil ? "No API tokens yet." : "No \(state.text) API tokens."
        ), headings: [
            table.column("Name", key: "name"), table.column("Created", key: "created"), table.column("Last used", key: "used"),
            table.column("Expires", key: "expires"), table.column("State", key: "state"),
        ])
        values["states"] = state.options()
        values["created"] = created
        values["fields"] = ["name": FormField.make("name", label: "Name", hint: "What the token is for, e.g. the monitoring system.", required: true, form: "token", context: context)]
        return pages.page("admin/tokens", title: "API tokens", values: values, context: context)
    }

    @Sendable func tokens(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try await tokensPage(created: nil, request: request, context: context)
    }

    @Sendable func createToken(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try staff(context)
        let form = try await FormFields.read(request, context: context)
        let created = try await billing.tokens.create(name: form["name"] ?? "", staff: staff)
        return try await tokensPage(created: created.token, request: request, context: context)
    }

    @Sendable func revokeToken(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await billing.tokens.revoke(id: try context.id(what: "API token"), for: try staff(context))
        context.flash(.success, "Token revoked.")
        return redirect(to: "/admin/api-tokens")
    }

    @Sendable func run(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let report = try await billing.recurring.runByHand(task: "all", now: billing.clock.now())
        return pages.page("admin/run", title: "Billing run", values: [
            "renewals": report.renewalInvoices, "credit": report.creditApplications, "fees": report.lateFees, "reminders": report.reminders,
            "suspended": report.suspensions, "unsuspended": report.unsuspensions,
        ], context: context)
    }
}
