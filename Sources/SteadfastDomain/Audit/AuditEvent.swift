import Foundation

/// Who made a change recorded in the audit trail (docs/accounts.md, "Audit trail").
public enum AuditActor: Sendable, Hashable {
    /// A logged-in account (client or staff), or the account a log-in or reset acted for.
    case account(UUID)
    /// A staff API token, acting as its owner.
    case apiToken(id: UUID, accountID: UUID)
    /// A scheduled job, by name.
    case job(String)
    /// Nobody in particular: an unauthenticated request (a gateway webhook, a mail pipe) or a tool.
    case system

    /// The account behind the actor, if any.
    public var accountID: UUID? {
        switch self {
        case .account(let id), .apiToken(_, let id): id
        case .job, .system: nil
        }
    }

    /// `account`, `api_token`, `job` or `system`: what the `actor_kind` column holds.
    public var kind: String {
        switch self {
        case .account: "account"
        case .apiToken: "api_token"
        case .job: "job"
        case .system: "system"
        }
    }
}

/// Every action the audit trail records. A state-changing use case in the account, billing or
/// support services records exactly one of these in the transaction that makes the change;
/// `AuditTrailTests` drives one call per case, so a new case without a recording (or a
/// recording without a test) is noticed.
public enum AuditAction: String, Sendable, CaseIterable, Codable {
    // Accounts (security events: a client sees these of their own account)
    case accountRegistered = "account.registered"
    case accountLoggedIn = "account.logged_in"
    case accountProfileUpdated = "account.profile_updated"
    case accountEmailVerificationSent = "account.email_verification_sent"
    case accountEmailVerified = "account.email_verified"
    case accountPasswordChanged = "account.password_changed"
    case accountSessionEnded = "account.session_ended"
    case accountPasswordResetRequested = "account.password_reset_requested"
    case accountPasswordReset = "account.password_reset"
    case accountTwoFactorEnrolmentStarted = "account.2fa_enrolment_started"
    case accountTwoFactorEnabled = "account.2fa_enabled"
    case accountTwoFactorDisabled = "account.2fa_disabled"
    // Staff management
    case staffRoleCreated = "staff_role.created"
    case staffInvited = "staff.invited"
    case staffUpdated = "staff.updated"
    // Billing: staff
    case apiTokenCreated = "api_token.created"
    case apiTokenRevoked = "api_token.revoked"
    case productGroupCreated = "product_group.created"
    case productGroupUpdated = "product_group.updated"
    case productCreated = "product.created"
    case productUpdated = "product.updated"
    case serviceChanged = "service.changed"
    case invoiceCreated = "invoice.created"
    case invoiceLinesAdded = "invoice.lines_added"
    case invoiceIssued = "invoice.issued"
    case invoiceCancelled = "invoice.cancelled"
    case invoiceSentToCollections = "invoice.sent_to_collections"
    case orderAccepted = "order.accepted"
    case orderCancelled = "order.cancelled"
    case paymentRecorded = "payment.recorded"
    case paymentRefunded = "payment.refunded"
    case creditAdjusted = "credit.adjusted"
    // Billing: clients
    case billingProfileUpdated = "billing_profile.updated"
    case cartItemAdded = "cart.item_added"
    case cartItemRemoved = "cart.item_removed"
    case orderPlaced = "order.placed"
    case paymentStarted = "payment.started"
    case creditApplied = "credit.applied"
    // Support
    case departmentCreated = "department.created"
    case cannedReplyCreated = "canned_reply.created"
    case cannedReplyDeleted = "canned_reply.deleted"
    case ticketAttachmentUploaded = "ticket.attachment_uploaded"
    case ticketOpened = "ticket.opened"
    case ticketReplied = "ticket.replied"
    case ticketClosed = "ticket.closed"
    case ticketUpdated = "ticket.updated"

    /// Events an account sees of its own: log-ins, password, e-mail and 2FA changes.
    public var isSecurityEvent: Bool { rawValue.hasPrefix("account.") }

    /// The security actions, for queries.
    public static var securityEvents: [AuditAction] { allCases.filter(\.isSecurityEvent) }
}

/// What a recorded change was made to.
public struct AuditObject: Sendable, Hashable {
    /// `account`, `invoice`, `ticket`, ...
    public let type: String
    /// The object's id (a UUID's lower-case text), when it has one.
    public let id: String?

    public init(_ type: String, _ id: UUID?) {
        self.type = type
        self.id = id?.uuidString.lowercased()
    }

    /// An object as stored (the id already text).
    public init(rawType: String, id: String?) {
        self.type = rawType
        self.id = id
    }

    public static func account(_ id: UUID) -> AuditObject { AuditObject("account", id) }
}
