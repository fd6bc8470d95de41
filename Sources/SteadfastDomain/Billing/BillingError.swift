/// Why a billing operation was refused. One error type for the whole billing concern (money,
/// tax, catalogue, orders, invoices, payments); the web edge maps ``Kind`` to an HTTP status.
///
/// Messages are written for the person who made the request and never contain card data,
/// secrets or SQL; `field` names the request field at fault when there is one.
public struct BillingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure; callers and the HTTP mapping branch on this, never on messages.
    public enum Kind: String, Sendable, Equatable {
        /// The input is malformed or out of range (400).
        case invalid
        /// The object does not exist or does not belong to the caller (404).
        case notFound
        /// The request conflicts with the current state, e.g. paying a paid invoice (409).
        case conflict
        /// A lifecycle was asked to make a transition it does not allow (409).
        case illegalTransition
        /// Amounts in different currencies were combined (400 at the edge; a bug if internal).
        case currencyMismatch
        /// An amount does not fit in 64 bits of minor units (400).
        case overflow
        /// An idempotency key was reused for a different request (422).
        case idempotencyMismatch
        /// The payment provider declined (402).
        case paymentDeclined
        /// The product is out of stock or no longer sold (409).
        case unavailable
        /// A gateway webhook's signature is missing or wrong (401).
        case badSignature
    }

    public let kind: Kind
    public let message: String
    public let field: String?

    public init(_ kind: Kind, _ message: String, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
    }

    public var description: String {
        "billing error (\(kind.rawValue)): \(message)" + (field.map { " [field: \($0)]" } ?? "")
    }

    public static func invalid(_ message: String, field: String? = nil) -> BillingError { BillingError(.invalid, message, field: field) }
    public static func notFound(_ what: String) -> BillingError { BillingError(.notFound, "\(what) not found") }
    public static func conflict(_ message: String, field: String? = nil) -> BillingError { BillingError(.conflict, message, field: field) }
}
