/// An order's lifecycle. Every legal move is in ``transitions``; anything else throws
/// ``BillingErrorKind/illegalTransition``.
///
/// - `pending`: placed, its invoice issued, waiting for staff (or payment) to accept it.
///   → accepted, cancelled, fraud.
/// - `accepted`: services created; final.
/// - `cancelled`: withdrawn before acceptance (its invoice is cancelled); final.
/// - `fraud`: refused as fraudulent (its invoice is cancelled); final.
public enum OrderStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case pending, accepted, cancelled, fraud

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

    public func next(on event: Event) throws(BillingError) -> OrderStatus {
        guard let target = Self.transitions[self]?[event] else {
            throw BillingError(.illegalTransition, "an order that is \(rawValue) cannot \(event.rawValue.replacingOccurrences(of: "_", with: " "))", field: "status")
        }
        return target
    }

    public mutating func apply(_ event: Event) throws(BillingError) {
        self = try next(on: event)
    }
}
