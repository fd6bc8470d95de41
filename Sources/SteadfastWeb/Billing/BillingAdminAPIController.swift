import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The staff side of the billing API under `/api/v1/admin`, for staff sessions and API tokens:
/// clients, catalogue, orders, services, invoices, payments, refunds, credit, API tokens and
/// an on-demand recurring-billing run.
struct BillingAdminAPIController: Sendable {
    let billing: BillingWeb

    struct PriceInput: Decodable {
        let cycle: String
        let recurring: Int64
        let setupFee: Int64?
    }

    struct ChoiceInput: Decodable {
        let name: String
        let pricing: [PriceInput]?
    }

    struct OptionInput: Decodable {
        let name: String
        let choices: [ChoiceInput]
    }

    struct ProductInput: Decodable {
        let groupId: UUID
        let name: String
        let description: String?
        let pricing: [PriceInput]
        let options: [OptionInput]?
        let hidden: Bool?
        let retired: Bool?
        let stockLimit: Int?
        let taxable: Bool?
    }

    struct GroupInput: Decodable {
        let name: String?
        let description: String?
        let hidden: Bool?
        let sortOrder: Int?
    }

    struct LineInput: Decodable {
        let description: String
        let amount: Int64
        let taxable: Bool?
    }

    struct DraftInput: Decodable {
        let clientId: UUID
        let dueDate: String?
        let lines: [LineInput]
    }

    struct LinesInput: Decodable {
        let lines: [LineInput]
    }

    struct PaymentInput: Decodable {
        let amount: Int64
        let gateway: String?
        let transactionId: String?
        let note: String?
    }

    struct RefundInput: Decodable {
        let amount: Int64?
        let toCredit: Bool?
    }

    struct CreditInput: Decodable {
        let amount: Int64
        let description: String
    }

    struct ProfileInput: Decodable {
        let country: String?
        let region: String?
        let taxExempt: Bool?
        let legalName: String?
        let address: String?
        let taxId: String?

        var identity: ClientBillingService.Identity? {
            legalName == nil && address == nil && taxId == nil ? nil : .init(legalName: legalName, address: address, taxID: taxId)
        }
    }

    struct TokenInput: Decodable {
        let name: String
        let scopes: [String]?
        let expiresIn: String?
    }

    struct RunInput: Decodable {
        let task: String?
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        let admin = api.group("admin")
        // One guard per group (docs/accounts.md, "Staff permissions"); handlers check nothing more.
        let read = admin.group().add(middleware: RequirePermission(.clientsRead))
        read.get("clients", use: clients)
        read.get("clients/{id}", use: client)
        read.get("orders", use: orders)
        read.get("orders/{id}", use: order)
        read.get("services", use: services)
        read.get("services/{id}", use: service)
        read.get("invoices", use: invoices)
        read.get("invoices/{id}", use: invoice)
        read.get("payments", use: payments)
        let write = admin.group().add(middleware: RequirePermission(.clientsWrite))
        write.put("clients/{id}/billing-profile", use: updateProfile)
        write.post("orders/{id}/accept", use: acceptOrder)
        write.post("orders/{id}/cancel", use: cancelOrder)
        write.post("orders/{id}/fraud", use: fraudOrder)
        write.post("services/{id}/{action}", use: changeService)
        let catalogue = admin.group().add(middleware: RequirePermission(.catalogueManage))
        catalogue.get("product-groups", use: groups)
        catalogue.post("product-groups", use: createGroup)
        catalogue.patch("product-groups/{id}", use: updateGroup)
        catalogue.get("products", use: products)
        catalogue.post("products", use: createProduct)
        catalogue.get("products/{id}", use: product)
        catalogue.put("products/{id}", use: updateProduct)
        let manage = admin.group().add(middleware: RequirePermission(.billingManage))
        manage.post("clients/{id}/credit", use: adjustCredit)
        manage.post("invoices", use: createDraft)
        manage.post("invoices/{id}/lines", use: addLines)
        manage.post("invoices/{id}/issue", use: issue)
        manage.post("invoices/{id}/cancel", use: cancelInvoice)
        manage.post("invoices/{id}/collections", use: collections)
        manage.post("invoices/{id}/payments", use: recordPayment)
        manage.post("billing/run", use: run)
        admin.group().add(middleware: RequirePermission(.billingRefund)).post("payments/{id}/refund", use: refund)
        let tokens = admin.group().add(middleware: RequirePermission(.apiTokens))
        tokens.get("api-tokens", use: self.tokens)
        tokens.post("api-tokens", use: createToken)
        tokens.delete("api-tokens/{id}", use: revokeToken)
    }

    // MARK: Clients

    @Sendable func clients(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: BillingViews.ClientView.init) {
            try await billing.clients.clients(search: request.uri.queryParameters.get("search"), sort: try ListSorting.parse(request, columns: ClientRepository.sortColumns), limit: $0, offset: $1)
        }
    }

    @Sendable func client(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "client")
        let summary = try await billing.clients.client(id: id)
        struct Detail: Encodable {
            let client: BillingViews.ClientView
            let profile: BillingViews.ProfileView
        }
        return try context.responseEncoder.encode(Detail(client: .init(summary), profile: .init(try await billing.clients.profile(clientID: id))), from: request, context: context)
    }

    @Sendable func updateProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "client")
        _ = try await billing.clients.client(id: id)
        let input = try await request.decode(as: ProfileInput.self, context: context)
        let profile = try await billing.clients.updateProfile(
            clientID: id, country: input.country, region: input.region, taxExempt: input.taxExempt, identity: input.identity
        )
        return try context.responseEncoder.encode(BillingViews.ProfileView(profile), from: request, context: context)
    }

    @Sendable func adjustCredit(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let id = try context.id(what: "client")
        let input = try await request.decode(as: CreditInput.self, context: context)
        let result = try await billing.payments.adjustCredit(
            staffID: staff.id, clientID: id, amount: Money(minorUnits: input.amount, currency: billing.settings.currency), description: input.description,
            idempotencyKey: request.headers[BillingJSON.idempotencyKey]
        )
        return BillingJSON.idempotent(result, status: .created)
    }

    // MARK: Catalogue

    @Sendable func groups(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(["items": try await billing.catalogue.groups().map { BillingViews.GroupView($0) }], from: request, context: context)
    }

    @Sendable func createGroup(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: GroupInput.self, context: context)
        guard let name = input.name else { throw BillingError.invalid("name is required", field: "name") }
        let group = try await billing.catalogue.createGroup(name: name, description: input.description ?? "", hidden: input.hidden ?? false, sortOrder: input.sortOrder ?? 0)
        return try context.responseEncoder.encode(BillingViews.GroupView(group), status: .created, from: request, context: context)
    }

    @Sendable func updateGroup(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "product group")
        let input = try await request.decode(as: GroupInput.self, context: context)
        let group = try await billing.catalogue.updateGroup(id: id, name: input.name, description: input.description, hidden: input.hidden, sortOrder: input.sortOrder)
        return try context.responseEncoder.encode(BillingViews.GroupView(group), from: request, context: context)
    }

    @Sendable func products(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: BillingViews.ProductView.init) {
            try await billing.catalogue.products(
                state: try ListChoice<CatalogueRepository.SaleState>(request, "state").selected,
                sort: try ListSorting.parse(request, columns: CatalogueRepository.sortColumns), limit: $0, offset: $1
            )
        }
    }

    @Sendable func product(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let product = try await billing.catalogue.product(id: try context.id(what: "product")) else { throw BillingError.notFound("product") }
        return try context.responseEncoder.encode(BillingViews.ProductView(product), from: request, context: context)
    }

    @Sendable func createProduct(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: ProductInput.self, context: context)
        let product = try await billing.catalogue.createProduct(try Self.productInput(input))
        return try context.responseEncoder.encode(BillingViews.ProductView(product), status: .created, from: request, context: context)
    }

    @Sendable func updateProduct(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "product")
        let input = try await request.decode(as: ProductInput.self, context: context)
        let product = try await billing.catalogue.updateProduct(id: id, try Self.productInput(input))
        return try context.responseEncoder.encode(BillingViews.ProductView(product), from: request, context: context)
    }

    static func pricing(_ prices: [PriceInput]?, field: String) throws -> [BillingCycle: PricePoint] {
        var result: [BillingCycle: PricePoint] = [:]
        for price in prices ?? [] {
            let cycle = try BillingCycle(parsing: price.cycle, field: field)
            guard result[cycle] == nil else { throw BillingError.invalid("\(cycle.rawValue) is priced twice", field: field) }
            result[cycle] = try PricePoint(recurring: price.recurring, setupFee: price.setupFee ?? 0).validated(field: field)
        }
        return result
    }

    static func productInput(_ input: ProductInput) throws -> CatalogueService.ProductInput {
        CatalogueService.ProductInput(
            groupID: input.groupId, name: input.name, description: input.description ?? "", pricing: try pricing(input.pricing, field: "pricing"),
            options: try (input.options ?? []).map { option in
                .init(name: option.name, choices: try option.choices.map { (name: $0.name, pricing: try pricing($0.pricing, field: "options")) })
            },
            hidden: input.hidden ?? false, retired: input.retired ?? false, stockLimit: input.stockLimit, taxable: input.taxable ?? true
        )
    }

    // MARK: Orders and services

    @Sendable func orders(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: { BillingViews.OrderView($0, withItems: false) }) { limit, offset in
            let status = try request.uri.queryParameters.get("status").map { raw throws(BillingError) in
                guard let status = OrderStatus(rawValue: raw) else { throw BillingError.invalid("unknown order status", field: "status") }
                return status
            }
            return try await billing.orders.orders(clientID: nil, status: status, sort: try ListSorting.parse(request, columns: OrderRepository.sortColumns), limit: limit, offset: offset)
        }
    }

    @Sendable func order(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.OrderView(try await billing.orders.order(id: try context.id(what: "order"), clientID: nil)), from: request, context: context)
    }

    @Sendable func acceptOrder(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.OrderView(try await billing.orders.accept(orderID: try context.id(what: "order"))), from: request, context: context)
    }

    @Sendable func cancelOrder(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.OrderView(try await billing.orders.cancel(orderID: try context.id(what: "order"))), from: request, context: context)
    }

    @Sendable func fraudOrder(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.OrderView(try await billing.orders.cancel(orderID: try context.id(what: "order"), fraud: true)), from: request, context: context)
    }

    @Sendable func services(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let client = request.uri.queryParameters.get("client_id").flatMap(UUID.init(uuidString:))
        return try await context.pagedJSON(request, item: BillingViews.ServiceView.init) {
            try await billing.clients.services(clientID: client, sort: try ListSorting.parse(request, columns: ServiceRepository.sortColumns), limit: $0, offset: $1)
        }
    }

    @Sendable func service(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.ServiceView(try await billing.clients.service(id: try context.id(what: "service"), clientID: nil)), from: request, context: context)
    }

    @Sendable func changeService(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "service")
        guard let event = context.parameters.get("action").flatMap(ServiceStatus.Event.init(rawValue:)) else {
            throw BillingError.notFound("service action")
        }
        return try context.responseEncoder.encode(BillingViews.ServiceView(try await billing.clients.changeService(id: id, event: event)), from: request, context: context)
    }

    // MARK: Invoices and payments

    @Sendable func invoices(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let client = request.uri.queryParameters.get("client_id").flatMap(UUID.init(uuidString:))
        return try await context.pagedJSON(request, item: { BillingViews.InvoiceView($0, withLines: false) }) { limit, offset in
            let status = try request.uri.queryParameters.get("status").map { raw throws(BillingError) in
                guard let status = InvoiceStatus(rawValue: raw) else { throw BillingError.invalid("unknown invoice status", field: "status") }
                return status
            }
            return try await billing.invoices.invoices(clientID: client, status: status, sort: try ListSorting.parse(request, columns: InvoiceRepository.sortColumns), limit: limit, offset: offset)
        }
    }

    @Sendable func invoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), clientID: nil)
        return try context.responseEncoder.encode(try await InvoiceWithCardPayments.load(invoice, stripe: billing.stripe, staff: true), from: request, context: context)
    }

    func lines(_ inputs: [LineInput]) -> [InvoiceService.LineInput] {
        inputs.map { .init(description: $0.description, amount: Money(minorUnits: $0.amount, currency: billing.settings.currency), taxable: $0.taxable ?? true) }
    }

    @Sendable func createDraft(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: DraftInput.self, context: context)
        let due = try input.dueDate.map { try BillingDate(iso: $0, field: "due_date") }
        let invoice = try await billing.invoices.createDraft(clientID: input.clientId, dueDate: due, lines: lines(input.lines))
        return try context.responseEncoder.encode(BillingViews.InvoiceView(invoice), status: .created, from: request, context: context)
    }

    @Sendable func addLines(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "invoice")
        let input = try await request.decode(as: LinesInput.self, context: context)
        return try context.responseEncoder.encode(BillingViews.InvoiceView(try await billing.invoices.addLines(invoiceID: id, lines(input.lines))), from: request, context: context)
    }

    @Sendable func issue(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.InvoiceView(try await billing.invoices.issue(invoiceID: try context.id(what: "invoice"))), from: request, context: context)
    }

    @Sendable func cancelInvoice(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.InvoiceView(try await billing.invoices.cancel(invoiceID: try context.id(what: "invoice"))), from: request, context: context)
    }

    @Sendable func collections(_ request: Request, context: PortalRequestContext) async throws -> Response {
        return try context.responseEncoder.encode(BillingViews.InvoiceView(try await billing.invoices.sendToCollections(invoiceID: try context.id(what: "invoice"))), from: request, context: context)
    }

    @Sendable func recordPayment(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let id = try context.id(what: "invoice")
        let input = try await request.decode(as: PaymentInput.self, context: context)
        let result = try await billing.payments.recordPayment(
            staffID: staff.id, invoiceID: id, amount: Money(minorUnits: input.amount, currency: billing.settings.currency),
            gateway: input.gateway ?? "banktransfer", transactionID: input.transactionId, note: input.note ?? "",
            idempotencyKey: request.headers[BillingJSON.idempotencyKey]
        )
        return BillingJSON.idempotent(result, status: .created)
    }

    @Sendable func payments(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let client = request.uri.queryParameters.get("client_id").flatMap(UUID.init(uuidString:))
        return try await context.pagedJSON(request, item: PaymentRecord.init) {
            try await billing.payments.payments(clientID: client, sort: try ListSorting.parse(request, columns: PaymentRepository.sortColumns), limit: $0, offset: $1)
        }
    }

    @Sendable func refund(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let id = try context.id(what: "payment")
        let input = try await request.decode(as: RefundInput.self, context: context)
        let result = try await billing.payments.refund(
            staffID: staff.id, paymentID: id, amount: input.amount, toCredit: input.toCredit ?? false, idempotencyKey: request.headers[BillingJSON.idempotencyKey]
        )
        return BillingJSON.idempotent(result, status: .created)
    }

    // MARK: API tokens and runs

    @Sendable func tokens(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: { BillingViews.TokenView($0) }) {
            try await billing.tokens.list(
                for: try context.requireAccount(), state: try ListChoice<APITokenRepository.State>(request, "state").selected,
                sort: try ListSorting.parse(request, columns: APITokenRepository.sortColumns), limit: $0, offset: $1
            )
        }
    }

    @Sendable func createToken(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let input = try await request.decode(as: TokenInput.self, context: context)
        // A token minting a token: the new one may not outlive it (nor hold more: `staff` carries its scopes).
        let created = try await billing.tokens.create(
            name: input.name, staff: staff, scopes: input.scopes, expiresIn: input.expiresIn, callerExpiresAt: context.apiToken?.expiresAt
        )
        return try context.responseEncoder.encode(BillingViews.TokenView(created.record, token: created.token), status: .created, from: request, context: context)
    }

    @Sendable func revokeToken(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await billing.tokens.revoke(id: try context.id(what: "API token"), for: try context.requireAccount())
        return Response(status: .noContent)
    }

    /// Runs recurring billing now (all steps, or one `task`): what the scheduler does, on demand.
    @Sendable func run(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: RunInput.self, context: context)
        let report = try await billing.recurring.runByHand(task: input.task ?? "all", now: billing.clock.now())
        return try context.responseEncoder.encode(report, from: request, context: context)
    }
}
