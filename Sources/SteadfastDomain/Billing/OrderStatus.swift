/// An order's lifecycle. Every legal move is in ``transitions``; anything else throws
/// ``BillingErrorKind/illegalTransition``.
///
/// - `pending`: placed, its invoice issued, waiting for staff (or payment) to accept it.
///   → accepted, cancelled, fraud.
/// - `accepted`: services created; final.
/// - `cancelled`: withdrawn before acceptance (its invoice is cancelled); final.
/// - `fraud`: refused as fraudulent (its invoice is cancelled); final.
public enum OrderStatus: String, Sendable, Codable, CaseIterable, Hashable, BillingLifecycle {
    case pending, accepted, cancelled, fraud

    public static let subject = "an order"

    /// What can happen to an order.
    public enum Event: String, Sendable, Codable, CaseIterable, Hashable {
        case accept, cancel
        case markFraud = "mark_fraud"
    }

    public static let transitions: [OrderStatus: [Event: OrderStatus]] = [
        .pending: [.accept: .accepted, .cancel: .cancelled, .markFraud: .fraud],
        .accepted: [:],
        .cancelled: [:],
        .fraud: [:],
    ]
}
