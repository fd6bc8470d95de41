#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One thing a member of staff may be allowed to do (docs/accounts.md, "Staff permissions").
/// Roles are named sets of these; an account's permissions are the union of its roles'.
public enum StaffPermission: String, Sendable, Codable, CaseIterable, PermissionName {
    /// See clients and their billing: clients, orders, services, invoices, payments, files.
    case clientsRead = "clients.read"
    /// Change clients' records: billing profile, order decisions, service lifecycle.
    case clientsWrite = "clients.write"
    /// Invoices, payments, credit and the on-demand billing run.
    case billingManage = "billing.manage"
    /// Refund payments (to the gateway or as credit).
    case billingRefund = "billing.refund"
    /// Product groups and products.
    case catalogueManage = "catalogue.manage"
    /// The ticket queue: read, reply, notes, assign, canned replies.
    case supportReply = "support.reply"
    /// Scheduled jobs: see runs, queue a run.
    case jobsRun = "jobs.run"
    /// Staff accounts and roles: invite, assign roles, disable.
    case staffManage = "staff.manage"
    /// Node-wide settings: support departments, mail templates and the outbox.
    case settingsManage = "settings.manage"
    /// Create and revoke one's own API tokens (scoped to a subset of one's own permissions).
    case apiTokens = "api.tokens"
}

/// The one authorisation check for staff: pages, API routes (through the web layer's
/// `RequirePermission` group middleware) and services (where a service method is the real
/// boundary) all ask it. Time and storage are not its business: ``Account/permissions`` already
/// holds what the caller may do in this request, read from the database on each request.
public enum StaffPolicy {
    /// What the policy says about one request.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Nobody is logged in.
        case unauthenticated
        /// A client, or a disabled account: not staff at all.
        case notStaff
        /// Staff without the permission.
        case missing(StaffPermission)
    }

    /// Whether `account` may do what `permission` covers; `nil`: any member of staff may.
    public static func decide(_ account: Account?, _ permission: StaffPermission?) -> Decision {
        guard let account else { return .unauthenticated }
        guard account.role == .staff, account.disabledAt == nil else { return .notStaff }
        guard let permission else { return .allowed }
        return account.permissions.contains(permission) ? .allowed : .missing(permission)
    }

    public static func allows(_ account: Account?, _ permission: StaffPermission?) -> Bool {
        decide(account, permission) == .allowed
    }

    /// Throws ``Denied`` unless `account` may do what `permission` covers.
    public static func require(_ permission: StaffPermission?, of account: Account?) throws(Denied) {
        let decision = decide(account, permission)
        guard decision == .allowed else { throw Denied(decision: decision) }
    }

    /// Whether `account` may hand out `permissions` (to a role, a staff member or an API token):
    /// only what it holds itself, so nobody can grant more than they have.
    public static func requireGrantable(_ permissions: Set<StaffPermission>, by account: Account) throws(Denied) {
        let missing = permissions.subtracting(account.permissions)
        if let first = missing.sorted().first { throw Denied(decision: .missing(first), granting: true) }
    }

    /// The refusal: 401 when nobody is logged in, 403 otherwise; the message names the permission.
    public struct Denied: Error, Sendable, Equatable {
        public let decision: Decision
        /// Whether the caller tried to grant more than it holds (rather than use it).
        public var granting: Bool = false

        public init(decision: Decision, granting: Bool = false) {
            self.decision = decision
            self.granting = granting
        }

        public var message: String {
            switch decision {
            case .allowed: "allowed"
            case .unauthenticated: "log in first"
            case .notStaff: "this is for staff only"
            case .missing(let permission) where granting: "you cannot grant the permission \(permission.rawValue): you do not hold it"
            case .missing(let permission): "this needs the staff permission \(permission.rawValue)"
            }
        }
    }

    /// Bad role or permission input.
    public typealias Invalid = AccessInputInvalid
}

/// A named set of permissions that staff accounts are given.
public struct StaffRole: Sendable, Equatable, Identifiable {
    /// The built-in "Full access" role (created by migration 620): every permission, including
    /// ones added later; it cannot be changed.
    public static let fullAccessID = UUID(uuidString: "00000000-0000-4000-8000-000000000620")!

    public var id: UUID
    public var name: String
    /// What the role grants (for the built-in role: every permission).
    public var permissions: Set<StaffPermission>
    public var builtIn: Bool

    public init(id: UUID, name: String, permissions: Set<StaffPermission>, builtIn: Bool) {
        self.id = id
        self.name = name
        self.permissions = builtIn ? Set(StaffPermission.allCases) : permissions
        self.builtIn = builtIn
    }

    /// A role name: 1-100 characters, no control characters.
    public static func validateName(_ raw: String) throws(StaffPolicy.Invalid) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw StaffPolicy.Invalid(message: "a role name of 1-100 characters without control characters is required")
        }
        return name
    }
}
