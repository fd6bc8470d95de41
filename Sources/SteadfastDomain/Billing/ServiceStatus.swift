/// A client service's lifecycle (a hosting account, a domain, a VPS...). Every legal move is in
/// ``transitions``; anything else throws ``BillingErrorKind/illegalTransition``.
///
/// - `pending`: ordered, first invoice not yet paid. → active, cancelled, terminated.
/// - `active`: provisioned and in use. → suspended, cancelled, terminated.
/// - `suspended`: switched off (overdue or by staff). → active, cancelled, terminated.
/// - `terminated`: removed by the provider; final.
/// - `cancelled`: ended at the client's request; final.
public enum ServiceStatus: String, Sendable, Codable, CaseIterable, Hashable, BillingLifecycle {
    case pending, active, suspended, terminated, cancelled

    public static let subject = "a service"

    /// What can happen to a service.
    public enum Event: String, Sendable, Codable, CaseIterable, Hashable {
        case activate, suspend, unsuspend, terminate, cancel
    }

    public static let transitions: [ServiceStatus: [Event: ServiceStatus]] = [
        .pending: [.activate: .active, .cancel: .cancelled, .terminate: .terminated],
        .active: [.suspend: .suspended, .cancel: .cancelled, .terminate: .terminated],
        .suspended: [.unsuspend: .active, .cancel: .cancelled, .terminate: .terminated],
        .terminated: [:],
        .cancelled: [:],
    ]

    /// Whether the service is still billed (renewal invoices are generated for it).
    public var isBillable: Bool { self == .active || self == .suspended }
}
