import Foundation
import SteadfastDomain

/// The simulated card provider behind the common contract. `paymentMethod` is a card token
/// (`tok_visa`, `tok_mastercard`, `tok_declined`); without one a payment waits for the
/// provider page (a checkout) and its signed webhook.
extension TestCardGateway: PaymentGateway {
    public var name: String { Self.name }
    /// No lookup (the simulated provider keeps nothing) and no off-session charges of saved
    /// cards (it saves none); refunds are acknowledged at once.
    public var capabilities: GatewayCapabilities { [.chargeNow, .clientCompletes, .refund, .partialRefund, .webhooks] }

    public func createPayment(_ request: GatewayPaymentRequest) async throws -> GatewayPayment {
        guard request.confirm, let token = request.paymentMethod else {
            return GatewayPayment(id: Self.newTransactionID(), status: .requiresAction, amount: request.amount)
        }
        do {
            return GatewayPayment(id: try Self.charge(token: token), status: .succeeded, amount: request.amount)
        } catch where error.kind == .paymentDeclined {
            throw GatewayError(.declined, error.message, code: "card_declined")
        }
    }

    /// The simulated provider moves no money back: acknowledged at once. Lookup, confirm and
    /// saved cards are outside its capabilities: the contract's `.unsupported` defaults.
    public func refund(paymentID: String, amount: Money?, idempotencyKey: String) async throws -> GatewayRefund {
        try acknowledgedRefund(id: "tcr_\(idempotencyKey)", paymentID: paymentID, amount: amount)
    }

    public func parseWebhook(body: [UInt8], signature: String?, now: Date) throws -> GatewayEvent {
        guard isValid(signature: signature, body: body) else {
            throw GatewayError(.badSignature, "the X-Signature header is missing or does not match the body")
        }
        guard let event = try? JSONDecoder().decode(Event.self, from: Data(body)), let currency = try? Currency(code: event.currency) else {
            throw GatewayError(.malformed, "the notification is not a test card event")
        }
        let payment = GatewayPayment(id: event.transactionID, status: .succeeded, amount: Money(minorUnits: event.amount, currency: currency))
        switch event.type {
        case "payment.succeeded": return GatewayEvent(id: event.transactionID, type: event.type, kind: .paymentSucceeded(payment), reference: event.checkoutID)
        case "payment.failed":
            var failed = payment
            failed.status = .failed
            return GatewayEvent(id: event.transactionID, type: event.type, kind: .paymentFailed(failed), reference: event.checkoutID)
        default: return GatewayEvent(id: event.transactionID, type: event.type, kind: .ignored, reference: event.checkoutID)
        }
    }
}
