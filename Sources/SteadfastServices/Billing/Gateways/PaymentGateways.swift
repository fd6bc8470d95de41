import Foundation
import SteadfastDomain

/// The gateways a node knows, by name, and which of them clients may pay with
/// (`billing.gateways`). Billing code finds a gateway here and talks to it through
/// ``PaymentGateway`` only, deciding by its ``GatewayCapabilities`` what it may ask.
public struct PaymentGateways: Sendable {
    let known: [String: any PaymentGateway]
    /// The names in `billing.gateways`.
    public let enabled: Set<String>

    public init(_ gateways: [any PaymentGateway], enabled: Set<String>) {
        var known: [String: any PaymentGateway] = [:]
        for gateway in gateways { known[gateway.name] = gateway }
        self.known = known
        self.enabled = enabled.intersection(known.keys)
    }

    /// Bank transfer and the test card gateway from `settings`, plus `stripe` when configured.
    public init(settings: BillingSettings, stripe: StripeGateway? = nil) {
        var gateways: [any PaymentGateway] = [BankTransferGateway(instructions: settings.bankTransferInstructions), TestCardGateway(secret: settings.testCardSecret)]
        if let stripe { gateways.append(stripe) }
        self.init(gateways, enabled: settings.gateways)
    }

    /// An enabled gateway, to pay with; anything else is a 400 naming `field` and listing the enabled ones.
    public func enabledGateway(named name: String, field: String = "gateway") throws -> any PaymentGateway {
        guard enabled.contains(name), let gateway = known[name] else {
            throw BillingError.invalid("payment method must be one of: \(enabled.sorted().joined(separator: ", "))", field: field)
        }
        return gateway
    }

    /// A gateway by name, enabled or not (payments made before it was disabled are still refunded).
    public func named(_ name: String) -> (any PaymentGateway)? {
        known[name]
    }
}

extension GatewayError {
    /// The error a client or staff member sees: a decline is 402 naming `field`, a capability the
    /// gateway lacks or a malformed request 400; a provider's refusal (502) or absence (503)
    /// stays this error, which the web layer answers as such.
    func forCaller(field: String) -> any Error {
        switch kind {
        case .declined: BillingError(.paymentDeclined, message, field: field)
        case .unsupported, .malformed: BillingError.invalid(message, field: field)
        case .badSignature: BillingError(.badSignature, message)
        case .rejected, .unavailable: self
        }
    }
}
