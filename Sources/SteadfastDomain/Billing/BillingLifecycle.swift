/// A billing lifecycle (orders, invoices, services): a status enum whose every legal move is in
/// ``transitions``. The one way a move is made: ``next(on:)`` and ``apply(_:)``, which throw
/// ``BillingErrorKind/illegalTransition`` for anything not listed — never a silent no-op.
public protocol BillingLifecycle: RawRepresentable, Hashable, Sendable where RawValue == String {
    associatedtype Event: RawRepresentable, Hashable, Sendable where Event.RawValue == String
    /// The complete transition table: (from, event) → to.
    static var transitions: [Self: [Event: Self]] { get }
    /// How a refusal names the thing: "an invoice", "an order", "a service".
    static var subject: String { get }
}

extension BillingLifecycle {
    /// The status after `event`, or ``BillingErrorKind/illegalTransition`` (field `status`) if
    /// the move is not allowed.
    public func next(on event: Event) throws(BillingError) -> Self {
        guard let target = Self.transitions[self]?[event] else {
            throw BillingError(
                .illegalTransition, "\(Self.subject) that is \(rawValue) cannot \(event.rawValue.replacingOccurrences(of: "_", with: " "))", field: "status"
            )
        }
        return target
    }

    public mutating func apply(_ event: Event) throws(BillingError) {
        self = try next(on: event)
    }
}
