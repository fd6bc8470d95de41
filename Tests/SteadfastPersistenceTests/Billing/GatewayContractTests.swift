import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// The gateway contract (docs/billing.md, "The gateway contract"): each gateway states what it
/// can do, does it, and refuses the rest with a typed `.unsupported` error, never a crash; the
/// payment service asks gateways only what their capabilities allow.
@Suite struct GatewayContractTests {
    let request = GatewayPaymentRequest(
        invoiceID: UUID(), clientID: UUID(), amount: Money(minorUnits: 1190, currency: .eur), attempt: "k1", confirm: false, reference: "INV-2026-000001"
    )

    /// The kind of ``GatewayError`` `body` throws, if it throws one.
    func kind(_ body: () async throws -> Void) async -> GatewayError.Kind? {
        do { try await body(); return nil } catch let error as GatewayError { return error.kind } catch { return nil }
    }

    @Test func bankTransferIsSettledByStaffAndSaysWhatItCannotDo() async throws {
        let bank = BankTransferGateway(instructions: "Pay to DE89 3704 0044 0532 0130 00.")
        #expect(bank.capabilities == [.settledByStaff, .refund, .partialRefund])
        #expect(bank.capabilities.names == ["settled_by_staff", "refund", "partial_refund"])
        let payment = try await bank.createPayment(request)
        #expect(payment.status == .pending)
        #expect(payment.instructions == "Pay to DE89 3704 0044 0532 0130 00. Reference: INV-2026-000001. Amount: \(request.amount.formatted).")
        let refund = try await bank.refund(paymentID: payment.id, amount: Money(minorUnits: 500, currency: .eur), idempotencyKey: "r1")
        #expect(refund.succeeded && refund.amount.minorUnits == 500)
        // What a bank transfer cannot do is refused by type, not by crashing.
        #expect(await kind { _ = try await bank.chargeSaved(request) } == .unsupported)
        #expect(await kind { _ = try await bank.savePaymentMethod(customerID: "c", idempotencyKey: "k") } == .unsupported)
        #expect(await kind { _ = try await bank.confirm(paymentID: payment.id, idempotencyKey: "k") } == .unsupported)
        #expect(await kind { _ = try await bank.payment(id: payment.id) } == .unsupported)
        #expect(await kind { _ = try bank.parseWebhook(body: [], signature: nil, now: Date()) } == .unsupported)
    }

    @Test func theTestCardChargesAtOnceOrOpensACheckoutAndSavesNothing() async throws {
        let card = TestCardGateway(secret: "contract-secret")
        #expect(card.capabilities.contains([.chargeNow, .clientCompletes, .webhooks]) && !card.capabilities.contains(.offSession))
        var charge = request
        charge.paymentMethod = "tok_visa"
        charge.confirm = true
        #expect(try await card.createPayment(charge).status == .succeeded)
        charge.paymentMethod = "tok_declined"
        #expect(await kind { _ = try await card.createPayment(charge) } == .declined)
        #expect(try await card.createPayment(request).status == .requiresAction)
        #expect(await kind { _ = try await card.chargeSaved(charge) } == .unsupported)
        #expect(await kind { _ = try await card.savePaymentMethod(customerID: "c", idempotencyKey: "k") } == .unsupported)
        #expect(await kind { _ = try await card.payment(id: "tc_1") } == .unsupported)
        // Its notifications are verified and read by the contract's parseWebhook.
        let signed = try card.signedEvent(.init(type: "payment.succeeded", checkoutID: "co-1", transactionID: "tc_1", amount: 1190, currency: "EUR"))
        let event = try card.parseWebhook(body: signed.body, signature: signed.signature, now: Date())
        #expect(event.reference == "co-1" && event.kind == .paymentSucceeded(GatewayPayment(id: "tc_1", status: .succeeded, amount: request.amount)))
        #expect(await kind { _ = try card.parseWebhook(body: signed.body, signature: "sha256=00", now: Date()) } == .badSignature)
    }

    @Test func stripeCanDoEverythingButWaitForStaff() {
        let client = StripeClient(apiBase: "https://api.stripe.com", secretKey: "sk_test_x", transport: UnusedTransport())
        let stripe = StripeGateway(client: client, webhookSecret: "whsec_contract_tests_0123", publishableKey: nil)
        #expect(stripe.capabilities.names == GatewayCapabilities.allNames.filter { $0 != "settled_by_staff" })
    }

    /// The card page's policy origins (docs/billing.md, "The card page"): on Stripe's own API,
    /// Stripe.js from js.stripe.com and 3-D Secure frames from hooks.stripe.com as well; on any
    /// other base (localstripe) everything from that one origin.
    @Test func theCardPageOriginsFollowTheAPIBase() async throws {
        try await withDatabase(.sqlite) { db in
            let settings = try BillingFixture(db: db).settings
            func origins(_ base: String) -> (script: String, frames: String, api: String) {
                let client = StripeClient(apiBase: base, secretKey: "sk_test_x", transport: UnusedTransport())
                let gateway = StripeGateway(client: client, webhookSecret: "whsec_contract_tests_0123", publishableKey: "pk_test_x")
                return StripePayments(database: db, settings: settings, clock: ManualClock(), gateway: gateway).pageOrigins
            }
            let real = origins("https://api.stripe.com")
            #expect(real.script == "https://js.stripe.com" && real.frames == "https://js.stripe.com https://hooks.stripe.com" && real.api == "https://api.stripe.com")
            let local = origins("http://127.0.0.1:8420")
            #expect(local.script == "http://127.0.0.1:8420" && local.frames == local.script && local.api == local.script)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func thePaymentServiceAsksOnlyWhatAGatewayCanDo(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client()
            let invoiceID = try await f.invoiceID(f.order(product, for: client))
            // A card token for bank transfer (no charge_now) is a clear 400, and nothing is recorded.
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoiceID, gateway: "banktransfer", amount: nil, cardToken: "tok_visa", idempotencyKey: "b1")
            } throws: { ($0 as? BillingError)?.field == "card_token" }
            // Bank transfer answers its instructions through the contract.
            let instructions = try await f.payments.pay(clientID: client, invoiceID: invoiceID, gateway: "banktransfer", amount: nil, cardToken: nil, idempotencyKey: "b2")
            #expect(instructions.value.result == "instructions" && instructions.value.instructions?.contains("Reference: ") == true)
            // A gateway that is not enabled is refused naming the field.
            await #expect {
                try await f.payments.pay(clientID: client, invoiceID: invoiceID, gateway: "stripe", amount: nil, cardToken: nil, idempotencyKey: "s1")
            } throws: { ($0 as? BillingError)?.field == "gateway" }
            #expect(try await PaymentRepository(db).count(invoiceID: invoiceID) == 0)
        }
    }
}

/// A transport for a client that is never asked anything.
struct UnusedTransport: StripeTransport {
    func send(method: String, url: String, headers: [(String, String)], body: [UInt8]?) async throws -> (status: Int, body: [UInt8]) {
        throw GatewayError(.unavailable, "not used")
    }
}
