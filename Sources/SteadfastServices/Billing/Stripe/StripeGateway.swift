import Foundation
import SteadfastDomain

/// Stripe behind the common ``PaymentGateway`` contract: PaymentIntents for payments,
/// SetupIntents to save cards, refunds through the API, and `Stripe-Signature`-verified events.
public struct StripeGateway: PaymentGateway {
    public static let name = "stripe"
    public var name: String { Self.name }
    public var capabilities: GatewayCapabilities {
        [.chargeNow, .clientCompletes, .confirm, .lookup, .refund, .partialRefund, .refundTotals, .saveMethod, .offSession, .webhooks]
    }

    public let client: StripeClient
    public let signature: StripeSignature
    public let publishableKey: String?

    public init(client: StripeClient, webhookSecret: String, publishableKey: String?, tolerance: TimeInterval = StripeSignature.defaultTolerance) {
        self.client = client
        self.signature = StripeSignature(secret: webhookSecret, tolerance: tolerance)
        self.publishableKey = publishableKey
    }

    public func createPayment(_ request: GatewayPaymentRequest) async throws -> GatewayPayment {
        let intent = try await client.createPaymentIntent(
            amount: request.amount, customer: request.customerID, paymentMethod: request.paymentMethod,
            confirm: request.confirm && request.paymentMethod != nil, metadata: Self.metadata(request), idempotencyKey: request.idempotencyKey
        )
        return try Self.payment(intent)
    }

    public func confirm(paymentID: String, idempotencyKey: String) async throws -> GatewayPayment {
        try Self.payment(try await client.confirmPaymentIntent(id: paymentID, idempotencyKey: idempotencyKey))
    }

    public func payment(id: String) async throws -> GatewayPayment {
        try Self.payment(try await client.paymentIntent(id: id))
    }

    public func refund(paymentID: String, amount: Money?, idempotencyKey: String) async throws -> GatewayRefund {
        let refund = try await client.createRefund(paymentIntent: paymentID, amount: amount?.minorUnits, idempotencyKey: idempotencyKey)
        let currency = try Self.currency(refund.currency)
        return GatewayRefund(
            id: refund.id, paymentID: refund.paymentIntent ?? paymentID, amount: Money(minorUnits: refund.amount, currency: currency),
            succeeded: refund.status == nil || refund.status == "succeeded" || refund.status == "pending"
        )
    }

    public func savePaymentMethod(customerID: String, idempotencyKey: String) async throws -> GatewaySetup {
        let setup = try await client.createSetupIntent(customer: customerID, idempotencyKey: idempotencyKey)
        return GatewaySetup(id: setup.id, clientSecret: setup.clientSecret)
    }

    public func chargeSaved(_ request: GatewayPaymentRequest) async throws -> GatewayPayment {
        guard let customer = request.customerID, let method = request.paymentMethod else {
            throw GatewayError(.rejected, "an off-session charge needs a customer and a saved payment method")
        }
        let intent = try await client.createPaymentIntent(
            amount: request.amount, customer: customer, paymentMethod: method, confirm: true, offSession: true, metadata: Self.metadata(request),
            idempotencyKey: request.idempotencyKey
        )
        return try Self.payment(intent)
    }

    public func parseWebhook(body: [UInt8], signature header: String?, now: Date) throws -> GatewayEvent {
        do {
            try signature.verify(header: header, payload: body, now: now)
        } catch {
            throw GatewayError(.badSignature, error.message)
        }
        let event: Envelope
        do {
            event = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch {
            throw GatewayError(.malformed, "the event is not a Stripe event object")
        }
        let object = event.data.object
        func money(_ minor: Int64?) throws -> Money {
            guard let minor, minor >= 0, let code = object.currency else { throw GatewayError(.malformed, "the event's object has no amount or currency") }
            return Money(minorUnits: minor, currency: try Self.currency(code))
        }
        switch event.type {
        case "payment_intent.succeeded", "payment_intent.payment_failed":
            let succeeded = event.type == "payment_intent.succeeded"
            let payment = GatewayPayment(
                id: object.id, status: succeeded ? .succeeded : .failed, amount: try money(object.amountReceived.flatMap { $0 > 0 ? $0 : nil } ?? object.amount),
                clientSecret: nil, failureMessage: object.lastPaymentError?.message
            )
            return GatewayEvent(id: event.id, type: event.type, kind: succeeded ? .paymentSucceeded(payment) : .paymentFailed(payment))
        case "charge.refunded":
            guard let intent = object.paymentIntent else { throw GatewayError(.malformed, "the refunded charge names no payment_intent") }
            return GatewayEvent(id: event.id, type: event.type, kind: .refunded(paymentID: intent, totalRefunded: try money(object.amountRefunded ?? 0)))
        case "charge.dispute.created":
            guard let target = object.paymentIntent ?? object.charge else { throw GatewayError(.malformed, "the dispute names no charge") }
            return GatewayEvent(id: event.id, type: event.type, kind: .disputed(paymentID: target, disputeID: object.id, amount: try money(object.amount), reason: object.reason ?? ""))
        default:
            return GatewayEvent(id: event.id, type: event.type, kind: .ignored)
        }
    }

    // MARK: Mapping

    static func metadata(_ request: GatewayPaymentRequest) -> [String: String] {
        ["invoice_id": request.invoiceID.uuidString.lowercased(), "client_id": request.clientID.uuidString.lowercased(), "attempt": request.attempt]
    }

    static func currency(_ code: String) throws -> Currency {
        do { return try Currency(code: code.uppercased()) } catch { throw GatewayError(.malformed, "unknown currency '\(code.prefix(10))'") }
    }

    static func payment(_ intent: StripeClient.PaymentIntent) throws -> GatewayPayment {
        let status: GatewayPayment.Status = switch intent.status {
        case "succeeded": .succeeded
        case "processing", "requires_capture": .pending
        case "canceled": .failed
        // requires_payment_method after a confirm is a decline; before, the client's card page is next.
        case "requires_payment_method" where intent.lastPaymentError != nil: .failed
        default: .requiresAction
        }
        return GatewayPayment(
            id: intent.id, status: status, amount: Money(minorUnits: intent.amount, currency: try currency(intent.currency)),
            clientSecret: intent.clientSecret, failureMessage: intent.lastPaymentError?.message, paymentMethod: intent.paymentMethod
        )
    }

    struct Envelope: Decodable {
        struct Body: Decodable { let object: Object }
        struct Object: Decodable {
            let id: String
            let amount: Int64?
            let amountReceived: Int64?
            let amountRefunded: Int64?
            let currency: String?
            let paymentIntent: String?
            let charge: String?
            let reason: String?
            let lastPaymentError: StripeClient.PaymentIntent.LastError?

            enum CodingKeys: String, CodingKey {
                case id, amount, currency, charge, reason
                case amountReceived = "amount_received"
                case amountRefunded = "amount_refunded"
                case paymentIntent = "payment_intent"
                case lastPaymentError = "last_payment_error"
            }
        }
        let id: String
        let type: String
        let data: Body
    }
}
