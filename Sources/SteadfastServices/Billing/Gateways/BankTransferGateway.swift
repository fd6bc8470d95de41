import Foundation
import SteadfastDomain

/// Bank transfer: nothing moves through the portal. A payment is `pending`, with the
/// instructions (`billing.bank_transfer_instructions`, the invoice number and the amount), until
/// staff record the transfer (its bank reference is the unique key); a refund is money staff send
/// back by hand, so the gateway only acknowledges it. No saved methods, no off-session charges,
/// no webhooks: its capabilities say so.
public struct BankTransferGateway: PaymentGateway {
    public static let name = "banktransfer"
    public var name: String { Self.name }
    public var capabilities: GatewayCapabilities { [.settledByStaff, .refund, .partialRefund] }

    /// What the client is told before the reference and the amount.
    public let instructions: String

    public init(instructions: String = "") {
        self.instructions = instructions
    }

    public func createPayment(_ request: GatewayPaymentRequest) async throws -> GatewayPayment {
        let reference = request.reference ?? request.invoiceID.uuidString.lowercased()
        let text = "\(instructions) Reference: \(reference). Amount: \(request.amount.formatted)."
        return GatewayPayment(
            id: "bt-\(request.invoiceID.uuidString.lowercased())-\(request.attempt)", status: .pending, amount: request.amount, instructions: text
        )
    }

    public func payment(id: String) async throws -> GatewayPayment {
        throw GatewayError(.unsupported, "a bank transfer is known when staff record it, not by asking the bank")
    }

    public func confirm(paymentID: String, idempotencyKey: String) async throws -> GatewayPayment {
        throw GatewayError(.unsupported, "bank transfers are confirmed by staff recording the money received")
    }

    public func refund(paymentID: String, amount: Money?, idempotencyKey: String) async throws -> GatewayRefund {
        guard let amount else { throw GatewayError(.unsupported, "say how much of a bank transfer is sent back") }
        return GatewayRefund(id: "bt-refund-\(idempotencyKey)", paymentID: paymentID, amount: amount, succeeded: true)
    }

    public func savePaymentMethod(customerID: String, idempotencyKey: String) async throws -> GatewaySetup {
        throw GatewayError(.unsupported, "bank transfer has no saved payment methods")
    }

    public func chargeSaved(_ request: GatewayPaymentRequest) async throws -> GatewayPayment {
        throw GatewayError(.unsupported, "bank transfer has no saved payment methods")
    }

    public func parseWebhook(body: [UInt8], signature: String?, now: Date) throws -> GatewayEvent {
        throw GatewayError(.unsupported, "bank transfer sends no notifications")
    }
}
