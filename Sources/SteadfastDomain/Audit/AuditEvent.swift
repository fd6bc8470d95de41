import Foundation

/// Who made a change recorded in the audit trail (docs/accounts.md, "Audit trail").
public enum AuditActor: Sendable, Hashable {
    /// A logged-in account (client or staff), or the account a log-in or reset acted for.
    case account(UUID)
    /// A staff API token, acting as its owner.
    case apiToken(id: UUID, accountID: UUID)
    /// A scheduled job, by name.
    case job(String)
    /// An inbound channel that acts on a provider's or a sender's word, by name: a payment
    /// gateway's webhook (`stripe`, `testcard`) or the mail pipe (`mail`).
    case gateway(String)
    /// Nobody in particular: an unauthenticated request (a reset request, a registration) or a tool.
    case system

    /// The account behind the actor, if any.
    public var accountID: UUID? {
        switch self {
        case .account(let id), .apiToken(_, let id): id
        case .job, .gateway, .system: nil
        }
    }

    /// `account`, `api_token`, `job`, `gateway` or `system`: what the `actor_kind` column holds.
    public var kind: String {
        switch self {
        case .account: "account"
        case .apiToken: "api_token"
        case .job: "job"
        case .gateway: "gateway"
        case .system: "system"
        }
    }

    /// The job's or the gateway's name (the `actor_job` column).
    public var name: String? {
        switch self {
        case .job(let name), .gateway(let name): name
        case .account, .apiToken, .system: nil
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
    case accountLoggedOut = "account.logged_out"
    /// A log-in to an existing account refused (wrong password or second factor, disabled); at
    /// most `AccountService.failedLogInEventsPerHour` per account and trailing hour (docs/accounts.md).
    case accountLoginFailed = "account.login_failed"
    // Staff management
    case staffRoleCreated = "staff_role.created"
    case staffInvited = "staff.invited"
    case staffUpdated = "staff.updated"
    // A client's users (sub-users): the owner invites, changes and removes them
    case clientUserInvited = "client_user.invited"
    case clientUserAccepted = "client_user.accepted"
    case clientUserUpdated = "client_user.updated"
    case clientUserRemoved = "client_user.removed"
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
    case orderMarkedFraud = "order.marked_fraud"
    case companyUpdated = "company.updated"
    case billingRunStarted = "billing.run"
    case jobRunQueued = "job.run_queued"
    case mailRetried = "mail.retried"
    case mailTemplateSaved = "mail_template.saved"
    case mailTemplateReset = "mail_template.reset"
    case fileUploaded = "file.uploaded"
    case fileDeleted = "file.deleted"
    // Billing: jobs and gateways
    case invoiceRenewalIssued = "invoice.renewal_issued"
    case invoiceLateFeeIssued = "invoice.late_fee_issued"
    case invoiceReminderQueued = "invoice.reminder_queued"
    case creditAutoApplied = "credit.auto_applied"
    case serviceSuspendedOverdue = "service.suspended_overdue"
    case serviceUnsuspended = "service.unsuspended"
    case paymentReceived = "payment.received"
    case paymentFailed = "payment.failed"
    case paymentDisputed = "payment.disputed"
    case captureFailed = "payment.capture_failed"
    // Billing: clients
    case billingProfileUpdated = "billing_profile.updated"
    case cartItemAdded = "cart.item_added"
    case cartItemRemoved = "cart.item_removed"
    case orderPlaced = "order.placed"
    case paymentStarted = "payment.started"
    case creditApplied = "credit.applied"
    case cartClaimed = "cart.claimed"
    case paymentMethodAdded = "payment_method.added"
    case paymentMethodRemoved = "payment_method.removed"
    // Support
    case departmentCreated = "department.created"
    case cannedReplyCreated = "canned_reply.created"
    case cannedReplyDeleted = "canned_reply.deleted"
    case ticketAttachmentUploaded = "ticket.attachment_uploaded"
    case ticketOpened = "ticket.opened"
    case ticketReplied = "ticket.replied"
    case ticketClosed = "ticket.closed"
    case ticketUpdated = "ticket.updated"
    case ticketAutoClosed = "ticket.auto_closed"
    case ticketAttachmentExpired = "ticket.attachment_expired"
    // Content (announcements, knowledge base, downloads; the object type says which)
    case contentCreated = "content.created"
    case contentUpdated = "content.updated"
    case contentDeleted = "content.deleted"

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
