import AsyncHTTPClient
import Crypto
import Foundation
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The billing services a node serves, built once from its configuration.
public struct BillingWeb: Sendable {
    public let settings: BillingSettings
    public let catalogue: CatalogueService
    public let orders: OrderService
    public let invoices: InvoiceService
    public let payments: PaymentService
    public let recurring: RecurringBilling
    public let clients: ClientBillingService
    public let tokens: APITokenService
    /// Card payments through Stripe; `nil` unless `billing.gateways` includes `stripe`.
    public let stripe: StripePayments?
    /// The automatic capture of saved cards (the `billing-capture` job); `nil` without Stripe.
    public let capture: AutomaticCapture?
    /// The node's clock ("now" for on-demand recurring-billing runs).
    public let clock: any WallClock
    /// Prints invoice PDFs (`billing.pdf_renderer`, `billing.pdf_timeout`, `billing.pdf_concurrency`).
    let pdf: InvoicePDFRenderer
    /// Visitors' carts: the cookie (`steadfast_cart`, `__Host-` over HTTPS).
    let visitorCart: VisitorCart

    public init(configuration: NodeConfiguration, database: any SQLDatabase, clock: any WallClock, secret: String) throws {
        var settings = try Self.settings(configuration.billing, clusterSecret: secret)
        settings.requireVerifiedEmail = configuration.accounts.requireVerifiedEmail
        settings.captureDaysBeforeDue = configuration.billing.capture.daysBeforeDue
        settings.captureRetry = configuration.billing.capture.retry
        let documents = configuration.billing.documents
        settings.company = InvoiceParty(name: documents.legalName, address: documents.address, taxID: documents.taxID, bankDetails: documents.bankDetails)
        pdf = InvoicePDFRenderer(executable: documents.pdfRenderer, timeout: documents.pdfTimeout, concurrency: documents.pdfConcurrency)
        visitorCart = VisitorCart(cookieName: (configuration.servedOverHTTPS ? "__Host-" : "") + "steadfast_cart", secure: configuration.servedOverHTTPS)
        self.settings = settings
        catalogue = CatalogueService(database: database, settings: settings, clock: clock)
        orders = OrderService(database: database, settings: settings, clock: clock)
        invoices = InvoiceService(database: database, settings: settings, clock: clock)
        recurring = RecurringBilling(database: database, settings: settings, clock: clock)
        clients = ClientBillingService(database: database, settings: settings, clock: clock)
        tokens = APITokenService(database: database, clock: clock)
        let stripe = configuration.billing.stripe.map { config in
            let client = StripeClient(apiBase: config.apiBase, secretKey: config.secretKey, transport: StripeHTTPTransport(client: HTTPClient.shared))
            let gateway = StripeGateway(client: client, webhookSecret: config.webhookSecret, publishableKey: config.publishableKey)
            return StripePayments(database: database, settings: settings, clock: clock, gateway: gateway)
        }
        self.stripe = stripe
        capture = stripe.map(AutomaticCapture.init(payments:))
        payments = PaymentService(database: database, settings: settings, clock: clock, stripe: stripe)
        self.clock = clock
    }

    /// Turns the `billing.*` configuration into billing rules; a rule that makes no sense (an
    /// unknown currency, a bad tax rule) stops the node with an error naming the key.
    public static func settings(_ billing: NodeConfiguration.Billing, clusterSecret: String) throws -> BillingSettings {
        func checked<T>(_ key: ConfigKey, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as BillingError { throw ConfigError(key: key.name, message: error.message) }
        }
        let currency = try checked(.billingCurrency) { try Currency(code: billing.currency) }
        let rules = try checked(.billingTaxRules) { try billing.taxRules.map { try TaxRule(parsing: $0) } }
        let format = try checked(.billingInvoiceNumberFormat) { try InvoiceNumberFormat(billing.invoiceNumberFormat) }
        let lateFee = try checked(.billingLateFee) { try LateFeePolicy(parsing: billing.lateFee, currency: currency) }
        let country = try checked(.billingDefaultCountry) { try BillingProfile.validatePlace(country: billing.defaultCountry, region: nil).0 }
        let derived = SHA256.hash(data: Data(("steadfast-testcard:" + clusterSecret).utf8)).map { String(format: "%02x", $0) }.joined()
        return BillingSettings(
            currency: currency, timeZone: TimeZone(identifier: billing.timeZone) ?? TimeZone(identifier: "UTC")!,
            taxTable: TaxTable(rules: rules, mode: billing.taxMode == "inclusive" ? .inclusive : .exclusive), defaultCountry: country,
            invoiceNumberFormat: format, invoiceDueDays: billing.invoiceDueDays, renewalLeadDays: billing.renewalLeadDays, lateFee: lateFee,
            lateFeeAfterDays: billing.lateFeeAfterDays, reminderDays: billing.reminderDays, suspensionDays: billing.suspensionDays,
            acceptOrdersOnPayment: billing.acceptOrdersOnPayment, gateways: Set(billing.gateways), testCardSecret: billing.testCardSecret ?? derived,
            bankTransferInstructions: billing.bankTransferInstructions
        )
    }
}
