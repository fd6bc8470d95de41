/// An invoice's lifecycle. Every legal move is listed in ``transitions``; anything else throws
/// ``BillingErrorKind/illegalTransition`` — never a silent no-op.
///
/// ```
/// draft ──issue──▶ unpaid ──pay──▶ paid ──refund──▶ refunded
///   │               │  ▲             
///   │               │  └──reopen─── paid  (a partial refund: money is owed again)
///   │               │                (partial payments stay unpaid)
///   └──cancel──▶ cancelled ◀──cancel── unpaid, collections
///                 unpaid ──sendToCollections──▶ collections ──pay──▶ paid
/// ```
/// - `draft`: being prepared by staff; no number yet. → unpaid, cancelled.
/// - `unpaid`: issued (numbered), money due. → paid, cancelled, collections.
/// - `paid`: settled in full (balance due zero). → refunded (every payment given back),
///   unpaid (`reopen`: part of the money was given back, so part is owed again).
/// - `collections`: handed to a debt collector; still payable. → paid, cancelled.
/// - `cancelled`, `refunded`: final.
public enum InvoiceStatus: String, Sendable, Codable, CaseIterable, Hashable, BillingLifecycle {
    case draft, unpaid, paid, cancelled, refunded, collections

    public static let subject = "an invoice"

    /// What can happen to an invoice.
    public enum Event: String, Sendable, Codable, CaseIterable, Hashable {
        /// Staff (or the system) issues a draft: it gets its number and becomes payable.
        case issue
        /// The balance due reached zero.
        case pay
        /// Voided; the number stays used (numbers are never reused or deleted).
        case cancel
        /// Every payment was given back.
        case refund
        /// Handed over to a debt collector.
        case sendToCollections = "send_to_collections"
        /// Part of the money of a paid invoice was given back: the rest of the total is owed again.
        case reopen
    }

    /// The complete transition table: (from, event) → to.
    public static let transitions: [InvoiceStatus: [Event: InvoiceStatus]] = [
        .draft: [.issue: .unpaid, .cancel: .cancelled],
        .unpaid: [.pay: .paid, .cancel: .cancelled, .sendToCollections: .collections],
        .collections: [.pay: .paid, .cancel: .cancelled],
        .paid: [.refund: .refunded, .reopen: .unpaid],
        .cancelled: [:],
        .refunded: [:],
    ]

    /// Whether money can still be paid against the invoice.
    public var isPayable: Bool { self == .unpaid || self == .collections }
}
