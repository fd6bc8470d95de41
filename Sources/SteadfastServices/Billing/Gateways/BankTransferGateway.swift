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

    /// Money staff send back by hand: acknowledged at once. The rest (lookup, confirm, saved
    /// methods, webhooks) is outside its capabilities: the contract's `.unsupported` defaults.
    public func refund(paymentID: String, amount: Money?, idempotencyKey: String) async throws -> GatewayRefund {
        try acknowledgedRefund(id: "bt-refund-\(idempotencyKey)", paymentID: paymentID, amount: amount)
    }
}
