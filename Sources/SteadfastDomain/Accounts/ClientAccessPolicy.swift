#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a client's user (a sub-user, docs/accounts.md "Client users") may do for the client.
/// The client account itself (the owner) may do all of it and, alone, manage its users.
public enum ClientPermission: String, Sendable, Codable, CaseIterable, PermissionName {
    /// Invoices, paying them, payment methods and saved cards, the cart, orders and checkout,
    /// credit, the billing profile.
    case billing
    /// Tickets: open, list, read, reply, close, attachments.
    case support
    /// The client's services: list, view, cancel.
    case services
    /// The client's company details (company, phone, contact address).
    case profile

    /// A request names at most 20 (``PermissionName/parse(_:)``).
    public static let mostNames: Int? = 20
}

/// The one authorisation decision for acting on a client's objects (invoices, orders, services,
/// tickets, billing profile, company details): every client-facing service method asks it with
/// the acting ``Account``, whichever page or API route calls it.
///
/// - The client account itself (the owner) may do everything for its client, and alone may
///   invite, change and remove its users.
/// - A client's user acts on the owner's client (``Account/clientID``) with the
///   ``Account/clientPermissions`` the owner gave; it never manages users, so it cannot widen
///   its own permissions.
/// - Staff acting through a client route act on their own (empty) client, as before; their
///   power over clients is ``StaffPolicy``'s.
public enum ClientAccessPolicy {
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Nobody is logged in.
        case unauthenticated
        /// A disabled or removed account.
        case disabled
        /// A client's user without the permission.
        case missing(ClientPermission)
        /// Only the client account itself may do this (managing its users).
        case ownerOnly
    }

    /// Whether `account` may act for its client in what `permission` covers.
    public static func decide(_ account: Account?, _ permission: ClientPermission) -> Decision {
        guard let account else { return .unauthenticated }
        guard account.disabledAt == nil else { return .disabled }
        guard account.clientOwnerID != nil else { return .allowed }
        return account.clientPermissions.contains(permission) ? .allowed : .missing(permission)
    }

    public static func allows(_ account: Account?, _ permission: ClientPermission) -> Bool {
        decide(account, permission) == .allowed
    }

    /// The client `account` acts for in what `permission` covers, or ``Denied``.
    @discardableResult
    public static func client(of account: Account, for permission: ClientPermission) throws(Denied) -> UUID {
        let decision = decide(account, permission)
        guard decision == .allowed else { throw Denied(decision: decision) }
        return account.clientID
    }

    /// Throws ``Denied`` unless `account` is a client account itself (not one of its users, not
    /// staff, not disabled): managing a client's users is the owner's alone.
    public static func requireOwner(_ account: Account) throws(Denied) {
        guard account.disabledAt == nil else { throw Denied(decision: .disabled) }
        guard account.role == .client, account.clientOwnerID == nil else { throw Denied(decision: .ownerOnly) }
    }

    /// The refusal: 401 when nobody is logged in, 403 otherwise; the message names the permission.
    public struct Denied: Error, Sendable, Equatable {
        public let decision: Decision

        public init(decision: Decision) {
            self.decision = decision
        }

        public var message: String {
            switch decision {
            case .allowed: "allowed"
            case .unauthenticated: "log in first"
            case .disabled: "this account is disabled"
            case .missing(let permission): "this needs the client permission \(permission.rawValue); ask the account's owner to grant it"
            case .ownerOnly: "only the client account's owner can manage its users"
            }
        }
    }

    /// Bad permission input.
    public typealias Invalid = AccessInputInvalid
}
