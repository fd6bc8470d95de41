#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A person who can log in: a client or a member of staff.
public struct Account: Sendable, Equatable, Identifiable {
    /// Random (v4) UUID: unique across every node and database without coordination.
    public var id: UUID
    public var email: EmailAddress
    public var name: String
    public var role: Role
    /// The bcrypt hash of the password (never the password).
    public var passwordHash: String
    public var createdAt: Date
    /// Company, phone and contact address (docs/accounts.md).
    public var profile: AccountProfile
    /// When the current e-mail address was confirmed by a link sent to it; `nil`: not yet.
    public var emailVerifiedAt: Date?
    /// Whether log-in asks for a TOTP code after the password.
    public var twoFactorEnabled: Bool
    /// When staff disabled the account; a disabled account logs in nowhere and its sessions
    /// and API tokens stop working at once (checked against the database on each request).
    public var disabledAt: Date?
    /// What this account may do in the current request (``StaffPolicy``): for staff, the union
    /// of their roles' permissions, narrowed to the token's scopes when an API token
    /// authenticated the request; empty for clients and for accounts read outside a request.
    public var permissions: Set<StaffPermission> = []
    /// For a client's user (docs/accounts.md, "Client users"): the client account it acts for;
    /// `nil` for a client account itself and for staff.
    public var clientOwnerID: UUID?
    /// What this account may do for its client (``ClientAccessPolicy``): everything for the
    /// client itself, what the owner granted for a client's user.
    public var clientPermissions: Set<ClientPermission> = Set(ClientPermission.allCases)

    /// The client whose invoices, orders, services, tickets and profile this account acts on:
    /// the owner's for a client's user, its own otherwise.
    public var clientID: UUID { clientOwnerID ?? id }

    public init(
        id: UUID, email: EmailAddress, name: String, role: Role, passwordHash: String, createdAt: Date,
        profile: AccountProfile = AccountProfile(), emailVerifiedAt: Date? = nil, twoFactorEnabled: Bool = false,
        disabledAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.profile = profile
        self.emailVerifiedAt = emailVerifiedAt
        self.twoFactorEnabled = twoFactorEnabled
        self.disabledAt = disabledAt
    }

    /// Validates a display name: required, at most 200 characters, no control characters.
    public static func validateName(_ raw: String) throws(AccountError) -> String {
        let name = raw.trimmingASCIIWhitespace()
        guard !name.isEmpty else { throw .invalidName("name is required") }
        guard name.count <= 200 else { throw .invalidName("name must be at most 200 characters long") }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidName("name must not contain control characters")
        }
        return name
    }
}
