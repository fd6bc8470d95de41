/// Why a billing operation was refused. One error type for the whole billing concern (money,
/// tax, catalogue, orders, invoices, payments); the web edge maps ``BillingErrorKind`` to an
/// HTTP status. The shape (kind, message, field) is the domain's one ``DomainError``.
public typealias BillingError = DomainError<BillingErrorKind>

/// The class of a billing failure; callers and the HTTP mapping branch on this, never on messages.
public enum BillingErrorKind: String, DomainErrorKind {
    public static let concern = "billing"

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
