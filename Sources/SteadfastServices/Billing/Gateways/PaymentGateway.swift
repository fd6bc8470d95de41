import Foundation
import SteadfastDomain

/// What every payment provider does for the portal: bank transfer, the test card gateway and
/// Stripe implement it (docs/billing.md, "Payment gateways").
///
/// The gateway only moves money at the provider; it never writes the ledger. Recording is the
/// services' job, exactly once, under the payment's unique key `<gateway>:<provider id>` and the
/// caller's idempotency record (``IdempotencyGuard``). Every call that creates something at the
/// provider carries an idempotency key derived from what it is for (``GatewayPaymentRequest/idempotencyKey``),
/// so a retry after a crash finds the first attempt instead of charging again.
public protocol PaymentGateway: Sendable {
    /// `banktransfer`, `testcard`, `stripe`: the name in `billing.gateways` and on payments.
    var name: String { get }
    /// What this gateway can do. Callers check it before calling: a call outside it throws
    /// ``GatewayError`` of kind `.unsupported` (bank transfer cannot charge off-session), never crashes.
    var capabilities: GatewayCapabilities { get }
    /// Starts (and, with a payment method and `confirm`, completes) a payment for an invoice.
    func createPayment(_ request: GatewayPaymentRequest) async throws -> GatewayPayment
    /// Confirms (captures) a payment created earlier.
    func confirm(paymentID: String, idempotencyKey: String) async throws -> GatewayPayment
    /// The payment as the provider sees it now: how the client's return from a card page is
    /// checked (the browser's word is never taken for it).
    func payment(id: String) async throws -> GatewayPayment
    /// Gives back `amount` (all of it when `nil`) of a payment.
    func refund(paymentID: String, amount: Money?, idempotencyKey: String) async throws -> GatewayRefund
    /// Starts saving a payment method for a customer, to charge later without them.
    func savePaymentMethod(customerID: String, idempotencyKey: String) async throws -> GatewaySetup
    /// Charges a saved payment method without the client present.
    func chargeSaved(_ request: GatewayPaymentRequest) async throws -> GatewayPayment
    /// Verifies a provider notification's signature and reads it. Throws ``GatewayError`` with
    /// kind `.badSignature` when the signature is missing or wrong: nothing may be applied then.
    func parseWebhook(body: [UInt8], signature: String?, now: Date) throws -> GatewayEvent
}

/// The contract's answer to a call outside a gateway's ``PaymentGateway/capabilities``: a
/// ``GatewayError`` of kind `.unsupported` naming the gateway and what it can do. A gateway
/// implements only what its capabilities list (Stripe: everything); the rest comes from here.
extension PaymentGateway {
    func unsupported(_ what: String) -> GatewayError {
        GatewayError(.unsupported, "the \(name) gateway \(what) (it can: \(capabilities))")
    }

    public func confirm(paymentID: String, idempotencyKey: String) async throws -> GatewayPayment {
        throw unsupported("confirms no payments")
    }

    public func payment(id: String) async throws -> GatewayPayment {
        throw unsupported("keeps no payments to look up")
    }

    public func savePaymentMethod(customerID: String, idempotencyKey: String) async throws -> GatewaySetup {
        throw unsupported("saves no payment methods")
    }

    public func chargeSaved(_ request: GatewayPaymentRequest) async throws -> GatewayPayment {
        throw unsupported("saves no payment methods to charge off-session")
    }

    public func parseWebhook(body: [UInt8], signature: String?, now: Date) throws -> GatewayEvent {
        throw unsupported("sends no notifications")
    }

    /// A refund the portal only acknowledges (money sent back by hand, a simulated provider):
    /// succeeded at once under `id`, for the amount named (a whole-payment refund must name it).
    func acknowledgedRefund(id: String, paymentID: String, amount: Money?) throws -> GatewayRefund {
        guard let amount else { throw unsupported("refunds only a named amount") }
        return GatewayRefund(id: id, paymentID: paymentID, amount: amount, succeeded: true)
    }
}

/// What a gateway can do (``PaymentGateway/capabilities``).
public struct GatewayCapabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Takes the money at once when the request names a payment method (a card token, a `pm_...`).
    public static let chargeNow = GatewayCapabilities(rawValue: 1 << 0)
    /// Payments the client completes on a page (the test card's checkout page, Stripe's card element).
    public static let clientCompletes = GatewayCapabilities(rawValue: 1 << 1)
    /// Payments that wait for money sent outside the portal, recorded by staff (bank transfer).
    public static let settledByStaff = GatewayCapabilities(rawValue: 1 << 2)
    /// ``PaymentGateway/confirm(paymentID:idempotencyKey:)``.
    public static let confirm = GatewayCapabilities(rawValue: 1 << 3)
    /// ``PaymentGateway/payment(id:)``: the provider can be asked what became of a payment.
    public static let lookup = GatewayCapabilities(rawValue: 1 << 4)
    /// ``PaymentGateway/refund(paymentID:amount:idempotencyKey:)`` of all of a payment.
    public static let refund = GatewayCapabilities(rawValue: 1 << 5)
    /// Refunds of part of a payment.
    public static let partialRefund = GatewayCapabilities(rawValue: 1 << 6)
    /// The provider reports each payment's total refunded (its refunds are settled against that
    /// total, so the refund call and the provider's notification record it once).
    public static let refundTotals = GatewayCapabilities(rawValue: 1 << 7)
    /// ``PaymentGateway/savePaymentMethod(customerID:idempotencyKey:)``.
    public static let saveMethod = GatewayCapabilities(rawValue: 1 << 8)
    /// ``PaymentGateway/chargeSaved(_:)``: charging a saved method without the client.
    public static let offSession = GatewayCapabilities(rawValue: 1 << 9)
    /// ``PaymentGateway/parseWebhook(body:signature:now:)``: signed notifications.
    public static let webhooks = GatewayCapabilities(rawValue: 1 << 10)

    static let names: [(GatewayCapabilities, String)] = [
        (.chargeNow, "charge_now"), (.clientCompletes, "client_completes"), (.settledByStaff, "settled_by_staff"), (.confirm, "confirm"),
        (.lookup, "lookup"), (.refund, "refund"), (.partialRefund, "partial_refund"), (.refundTotals, "refund_totals"),
        (.saveMethod, "save_method"), (.offSession, "off_session"), (.webhooks, "webhooks"),
    ]

    /// Every capability's name, in that order.
    public static var allNames: [String] { names.map(\.1) }

    /// The names of what is in the set, in a fixed order (`charge_now`, `refund`...).
    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
    public var description: String { names.joined(separator: ",") }
}

/// A payment to make for an invoice.
public struct GatewayPaymentRequest: Sendable, Equatable {
    public var invoiceID: UUID
    public var clientID: UUID
    public var amount: Money
    /// What makes this attempt different from other attempts at the same invoice: the client's
    /// `Idempotency-Key`, or the capture job's attempt number.
    public var attempt: String
    public var customerID: String?
    public var paymentMethod: String?
    /// Charge at once (the payment method is given) instead of returning a pending payment.
    public var confirm: Bool
    /// What the payer quotes with the money (the invoice number), for gateways that need one.
    public var reference: String?

    public init(
        invoiceID: UUID, clientID: UUID, amount: Money, attempt: String, customerID: String? = nil, paymentMethod: String? = nil, confirm: Bool,
        reference: String? = nil
    ) {
        self.reference = reference
        self.invoiceID = invoiceID
        self.clientID = clientID
        self.amount = amount
        self.attempt = attempt
        self.customerID = customerID
        self.paymentMethod = paymentMethod
        self.confirm = confirm
    }

    /// The provider-side idempotency key: one invoice and one attempt are one payment, however
    /// often (and from however many nodes) the request is retried.
    public var idempotencyKey: String {
        "steadfast-pay-\(invoiceID.uuidString.lowercased())-\(attempt)"
    }
}

/// A payment as the provider sees it.
public struct GatewayPayment: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        /// The money is taken.
        case succeeded
        /// The client must act (enter a card, 3-D Secure): see `clientSecret`.
        case requiresAction = "requires_action"
        /// Waiting for money that arrives later (bank transfer) or for the provider.
        case pending
        /// Declined, cancelled or failed.
        case failed
    }

    /// The provider's id (Stripe: `pi_...`): the payment's unique key is `<gateway>:<id>`.
    public var id: String
    public var status: Status
    public var amount: Money
    /// What the provider's card page needs to finish the payment (Stripe: the PaymentIntent's `client_secret`).
    public var clientSecret: String?
    /// Why it failed, as the provider said.
    public var failureMessage: String?
    /// The payment method the provider charged (Stripe: `pm_...`), when it says.
    public var paymentMethod: String?
    /// What the client is told to do (bank transfer: where to send the money).
    public var instructions: String?

    public init(
        id: String, status: Status, amount: Money, clientSecret: String? = nil, failureMessage: String? = nil, paymentMethod: String? = nil,
        instructions: String? = nil
    ) {
        self.id = id
        self.status = status
        self.amount = amount
        self.clientSecret = clientSecret
        self.failureMessage = failureMessage
        self.paymentMethod = paymentMethod
        self.instructions = instructions
    }
}

/// A refund as the provider sees it.
public struct GatewayRefund: Sendable, Equatable {
    public var id: String
    public var paymentID: String
    public var amount: Money
    public var succeeded: Bool

    public init(id: String, paymentID: String, amount: Money, succeeded: Bool) {
        self.id = id
        self.paymentID = paymentID
        self.amount = amount
        self.succeeded = succeeded
    }
}

/// A started "save this card" flow (Stripe: a SetupIntent).
public struct GatewaySetup: Sendable, Equatable {
    public var id: String
    public var clientSecret: String?

    public init(id: String, clientSecret: String?) {
        self.id = id
        self.clientSecret = clientSecret
    }
}

/// A verified provider notification.
public struct GatewayEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case paymentSucceeded(GatewayPayment)
        case paymentFailed(GatewayPayment)
        /// How much of the payment the provider has refunded in all, so far. The ledger is
        /// brought up to this total (a total only grows, so a late or repeated event changes nothing).
        case refunded(paymentID: String, totalRefunded: Money)
        /// `paymentID` is the payment's id, or (when the provider only names the charge) a charge id `ch_...`.
        case disputed(paymentID: String, disputeID: String, amount: Money, reason: String)
        /// A type the portal does not act on: acknowledged, nothing changes.
        case ignored
    }

    /// The provider's event id (`evt_...`).
    public var id: String
    /// The provider's event type (`payment_intent.succeeded`...).
    public var type: String
    public var kind: Kind
    /// The portal's own reference the provider echoes back (the test card's checkout id), when
    /// it has one; Stripe's events are matched by their PaymentIntent instead.
    public var reference: String?

    public init(id: String, type: String, kind: Kind, reference: String? = nil) {
        self.id = id
        self.type = type
        self.kind = kind
        self.reference = reference
    }
}

/// A provider call that did not succeed.
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The card was declined (HTTP 402 to the client).
        case declined
        /// This gateway cannot do that (bank transfer has no webhooks).
        case unsupported
        /// The provider refused the request as invalid (HTTP 502: our request or their state is wrong).
        case rejected
        /// The provider could not be reached or answered 5xx/429 (HTTP 503: try again).
        case unavailable
        /// A notification's signature is missing, stale or wrong (HTTP 400).
        case badSignature
        /// A notification that is signed but cannot be read (HTTP 400).
        case malformed
    }

    public var kind: Kind
    public var message: String
    /// The provider's error code (`card_declined`...), when it gave one.
    public var code: String?

    public init(_ kind: Kind, _ message: String, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    public var description: String { message }
}
