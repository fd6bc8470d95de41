import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// What the billing API shows, one view per domain type. Encoded with
/// ``BillingJSON/encoder`` (snake_case keys): amounts are integers in minor units with the
/// currency beside them; ids are lower-case UUIDs; days are `YYYY-MM-DD`.
enum BillingViews {
    struct Price: Encodable {
        let cycle: String
        let recurring: Int64
        let setupFee: Int64

        static func list(_ pricing: [BillingCycle: PricePoint]) -> [Price] {
            BillingCycle.allCases.compactMap { cycle in pricing[cycle].map { Price(cycle: cycle.rawValue, recurring: $0.recurring, setupFee: $0.setupFee) } }
        }
    }

    struct Choice: Encodable {
        let id: String
        let name: String
        let pricing: [Price]
    }

    struct Option: Encodable {
        let id: String
        let name: String
        let choices: [Choice]
    }

    struct ProductView: Encodable {
        let id: String
        let groupId: String
        let name: String
        let description: String
        let currency: String
        let pricing: [Price]
        let options: [Option]
        let hidden: Bool
        let retired: Bool
        let stockLimit: Int?
        let stockRemaining: Int?
        let taxable: Bool

        init(_ product: Product) {
            id = product.id.text
            groupId = product.groupID.text
            name = product.name
            description = product.description
            currency = product.currency.code
            pricing = Price.list(product.pricing)
            options = product.options.map { option in
                Option(id: option.id.text, name: option.name, choices: option.choices.map { Choice(id: $0.id.text, name: $0.name, pricing: Price.list($0.pricing)) })
            }
            hidden = product.hidden
            retired = product.retired
            stockLimit = product.stockLimit
            stockRemaining = product.stockRemaining
            taxable = product.taxable
        }
    }

    struct GroupView: Encodable {
        let id: String
        let name: String
        let description: String
        let hidden: Bool
        let sortOrder: Int
        let products: [ProductView]?

        init(_ group: ProductGroup, products: [Product]? = nil) {
            id = group.id.text
            name = group.name
            description = group.description
            hidden = group.hidden
            sortOrder = group.sortOrder
            self.products = products?.map(ProductView.init)
        }
    }

    struct CartItemView: Encodable {
        let id: String
        let productId: String
        let productName: String
        let cycle: String
        let selections: [String: String]
        let recurring: Int64
        let setupFee: Int64
    }

    struct CartView: Encodable {
        let items: [CartItemView]
        let currency: String
        let subtotal: Int64
        let tax: Int64
        let total: Int64
    }

    struct OrderItemView: Encodable {
        let id: String
        let productId: String
        let description: String
        let cycle: String
        let recurring: Int64
        let setupFee: Int64
        let serviceId: String?
    }

    struct OrderView: Encodable {
        let id: String
        let clientId: String
        let status: String
        let currency: String
        let invoiceId: String?
        let orderDate: String
        let createdAt: Date
        let items: [OrderItemView]?

        init(_ order: Order, withItems: Bool = true) {
            id = order.id.text
            clientId = order.clientID.text
            status = order.status.rawValue
            currency = order.currency.code
            invoiceId = order.invoiceID?.text
            orderDate = order.orderDate.iso
            createdAt = order.createdAt
            items = withItems ? order.items.map {
                OrderItemView(
                    id: $0.id.text, productId: $0.productID.text, description: $0.description, cycle: $0.cycle.rawValue,
                    recurring: $0.recurring.minorUnits, setupFee: $0.setupFee.minorUnits, serviceId: $0.serviceID?.text
                )
            } : nil
        }
    }

    struct ServiceView: Encodable {
        let id: String
        let clientId: String
        let orderId: String?
        let productId: String
        let description: String
        let cycle: String
        let status: String
        let currency: String
        let recurring: Int64
        let registrationDate: String
        let nextDueDate: String?
        let suspensionReason: String?

        init(_ service: ClientService) {
            id = service.id.text
            clientId = service.clientID.text
            orderId = service.orderID?.text
            productId = service.productID.text
            description = service.description
            cycle = service.cycle.rawValue
            status = service.status.rawValue
            currency = service.recurring.currency.code
            recurring = service.recurring.minorUnits
            registrationDate = service.registrationDate.iso
            nextDueDate = service.nextDueDate?.iso
            suspensionReason = service.suspensionReason?.rawValue
        }
    }

    struct LineView: Encodable {
        let id: String
        let position: Int
        let kind: String
        let description: String
        let serviceId: String?
        let net: Int64
        let tax: Int64
        let gross: Int64
        let taxable: Bool
        let periodStart: String?
        let periodEnd: String?
    }

    struct InvoiceView: Encodable {
        let id: String
        let clientId: String
        let number: String?
        let status: String
        let currency: String
        let issueDate: String?
        let dueDate: String
        let paidAt: Date?
        let subtotal: Int64
        let tax: Int64
        let total: Int64
        let amountPaid: Int64
        /// Received and refunded: balance_due = total − amount_received + amount_refunded.
        let amountReceived: Int64
        let amountRefunded: Int64
        let balanceDue: Int64
        /// Seller and buyer as copied when issued (absent on invoices issued before the copy).
        let seller: InvoiceParty?
        let buyer: InvoiceParty?
        let taxName: String?
        let taxRate: String?
        let taxMode: String
        let orderId: String?
        let createdAt: Date
        let lines: [LineView]?

        init(_ invoice: Invoice, withLines: Bool = true) {
            id = invoice.id.text
            clientId = invoice.clientID.text
            number = invoice.number
            status = invoice.status.rawValue
            currency = invoice.currency.code
            issueDate = invoice.issueDate?.iso
            dueDate = invoice.dueDate.iso
            paidAt = invoice.paidAt
            subtotal = invoice.subtotal.minorUnits
            tax = invoice.tax.minorUnits
            total = invoice.total.minorUnits
            amountPaid = invoice.amountPaid.minorUnits
            amountReceived = invoice.amountReceived.minorUnits
            amountRefunded = invoice.amountRefunded.minorUnits
            balanceDue = invoice.balanceDue.minorUnits
            seller = invoice.seller
            buyer = invoice.buyer
            taxName = invoice.taxName
            taxRate = invoice.taxRate?.percentString
            taxMode = invoice.taxMode.rawValue
            orderId = invoice.orderID?.text
            createdAt = invoice.createdAt
            lines = withLines ? invoice.lines.map {
                LineView(
                    id: $0.id.text, position: $0.position, kind: $0.kind.rawValue, description: $0.description, serviceId: $0.serviceID?.text,
                    net: $0.amounts.net.minorUnits, tax: $0.amounts.tax.minorUnits, gross: $0.amounts.gross.minorUnits, taxable: $0.taxable,
                    periodStart: $0.periodStart?.iso, periodEnd: $0.periodEnd?.iso
                )
            } : nil
        }
    }

    struct CreditEntryView: Encodable {
        let id: String
        let amount: Int64
        let currency: String
        let kind: String
        let invoiceId: String?
        let description: String
        let createdAt: Date

        init(_ entry: CreditEntry) {
            id = entry.id.text
            amount = entry.amount.minorUnits
            currency = entry.amount.currency.code
            kind = entry.kind.rawValue
            invoiceId = entry.invoiceID?.text
            description = entry.description
            createdAt = entry.createdAt
        }
    }

    struct CreditView: Encodable {
        let balance: Int64
        let currency: String
        let entries: [CreditEntryView]
    }

    struct ProfileView: Encodable {
        let clientId: String
        let country: String?
        let region: String?
        let taxExempt: Bool
        let currency: String
        let legalName: String?
        let address: String?
        let taxId: String?

        init(_ profile: BillingProfile) {
            clientId = profile.clientID.text
            country = profile.country
            region = profile.region
            taxExempt = profile.taxExempt
            currency = profile.currency.code
            legalName = profile.legalName
            address = profile.address
            taxId = profile.taxID
        }
    }

    struct CheckoutView: Encodable {
        let id: String
        let invoiceId: String
        let status: String
        let amount: Int64
        let currency: String
        let paymentId: String?

        init(_ checkout: CheckoutRepository.Checkout) {
            id = checkout.id.text
            invoiceId = checkout.invoiceID.text
            status = checkout.status.rawValue
            amount = checkout.amount.minorUnits
            currency = checkout.amount.currency.code
            paymentId = checkout.paymentID?.text
        }
    }

    struct ClientView: Encodable {
        let id: String
        let name: String
        let email: String
        let country: String?
        let outstanding: Int64
        let credit: Int64
        let createdAt: Date

        init(_ client: ClientRepository.Summary) {
            id = client.id.text
            name = client.name
            email = client.email
            country = client.country
            outstanding = client.outstanding
            credit = client.credit
            createdAt = client.createdAt
        }
    }

    struct TokenView: Encodable {
        let id: String
        let name: String
        let createdAt: Date
        let lastUsedAt: Date?
        let revokedAt: Date?
        /// The permissions the token may use (`null`: its owner's, for a token made before scopes existed).
        let scopes: [String]?
        let expiresAt: Date?
        /// Only in the answer to creating the token; never shown again.
        let token: String?

        init(_ record: APITokenRepository.Record, token: String? = nil) {
            id = record.id.text
            name = record.name
            createdAt = record.createdAt
            lastUsedAt = record.lastUsedAt
            revokedAt = record.revokedAt
            scopes = record.scopes.map { $0.sorted().map(\.rawValue) }
            expiresAt = record.expiresAt
            self.token = token
        }
    }

    /// `{"items": [...]}` with paging, for every list.
    struct Page<Item: Encodable>: Encodable {
        let items: [Item]
        let limit: Int
        let offset: Int
    }
}
