import Foundation
import Logging
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// Account use cases: sign-up, log-in, and the first staff account.
public struct AccountService: Sendable {
    let accounts: AccountRepository
    let hasher: PasswordHasher
    let policy: PasswordPolicy
    let clock: any WallClock
    /// Log-in and registration limits; `nil`: none (tools and tests that make accounts).
    let limiter: RateLimiter?
    let database: any SQLDatabase
    /// Reset, verification and two-factor settings (docs/accounts.md).
    let settings: AccountSettings
    /// Where reset and verification mail goes, in the transaction that makes the token.
    let outbox: MailOutbox

    /// A bcrypt hash checked when the e-mail is unknown, so a wrong e-mail costs as much time as
    /// a wrong password and timing does not reveal which accounts exist.
    private let decoyHash: String

    public init(
        database: any SQLDatabase, hasher: PasswordHasher, policy: PasswordPolicy = PasswordPolicy(), clock: any WallClock = SystemWallClock(),
        limiter: RateLimiter? = nil, settings: AccountSettings = AccountSettings(), outbox: MailOutbox = MailOutbox()
    ) {
        self.accounts = AccountRepository(database: database)
        self.database = database
        self.settings = settings
        self.outbox = outbox
        self.hasher = hasher
        self.policy = policy
        self.clock = clock
        self.limiter = limiter
        // A hash of a random password at the configured cost (computed once, synchronously).
        self.decoyHash = "$2b$\(String(format: "%02d", Int(hasher.cost)))$" + String(repeating: "a", count: 53)
    }

    /// Creates an account after validating every field; throws ``AccountError``, or
    /// ``RateLimited`` when `clientIP` has registered too often.
    /// With `sendVerification` (the default), a link to confirm the address is mailed through the
    /// outbox in the same transaction as the insert.
    public func register(
        email rawEmail: String, password: String, name rawName: String, role: Role = .client, clientIP: String? = nil, sendVerification: Bool = true
    ) async throws -> Account {
        if let limiter, let clientIP { try await limiter.hit(.registerPerIP, key: clientIP) }
        let email = try EmailAddress(rawEmail)
        let name = try Account.validateName(rawName)
        try policy.validate(password, email: email)
        let account = Account(
            id: UUID(),
            email: email,
            name: name,
            role: role,
            passwordHash: try await hasher.hash(password),
            createdAt: clock.now()
        )
        let now = clock.now()
        try await database.transaction { tx in
            try await AccountRepository.insert(account, into: tx)
            // Staff made here (the first staff account, operator tools) get full access; invited
            // staff get the roles they were invited with (``inviteStaff(by:email:name:roles:)``).
            if role == .staff { try await StaffRepository(tx).setRoles(accountID: account.id, roleIDs: [StaffRole.fullAccessID]) }
            if sendVerification {
                try await self.sendVerification(tx, accountID: account.id, name: account.name, email: account.email, now: now)
            }
            try await AuditTrail.record(
                tx, .accountRegistered, object: .account(account.id), after: ["email": account.email.value, "role": role.rawValue], account: account.id, now: now
            )
        }
        return account
    }

    /// The account for these credentials, or ``AccountError/invalidCredentials`` — the same error
    /// whether the e-mail is unknown or the password wrong. With a limiter, each attempt counts
    /// against the account (known or not, so the limit reveals nothing) and `clientIP` first;
    /// over a limit: ``RateLimited``, before any password is checked.
    public func authenticate(email rawEmail: String, password: String, clientIP: String? = nil) async throws -> Account {
        if let limiter {
            if let clientIP { try await limiter.hit(.loginPerIP, key: clientIP) }
            let normalized = (try? EmailAddress(rawEmail).normalized) ?? rawEmail.lowercased()
            try await limiter.hit(.loginPerAccount, key: normalized)
        }
        guard let email = try? EmailAddress(rawEmail), !password.isEmpty, password.utf8.count <= 1024 else {
            throw AccountError.invalidCredentials
        }
        guard let account = try await accounts.find(email: email) else {
            _ = try await hasher.verify(password, hash: decoyHash)
            throw AccountError.invalidCredentials
        }
        guard try await hasher.verify(password, hash: account.passwordHash) else {
            try await recordFailedLogIn(account.id, reason: "password")
            throw AccountError.invalidCredentials
        }
        // A disabled account logs in nowhere (and only someone who knows the password learns it).
        guard account.disabledAt == nil else {
            try await recordFailedLogIn(account.id, reason: "disabled")
            throw AccountError.invalidCredentials
        }
        // With two-factor log-in the log-in is complete only after the code (completeLogIn).
        if !account.twoFactorEnabled { try await recordLogIn(account.id, method: "password") }
        return account
    }

    /// The log-in's security event, in its own transaction (the session row is written by the
    /// session middleware after the answer).
    func recordLogIn(_ accountID: UUID, method: String) async throws {
        let now = clock.now()
        try await database.transaction { tx in
            try await AuditTrail.record(tx, .accountLoggedIn, object: .account(accountID), after: ["method": method], actor: .account(accountID), now: now)
        }
    }

    /// At most this many `account.login_failed` events per account in any trailing hour.
    public static let failedLogInEventsPerHour = 20

    /// A refused log-in to an existing account (wrong password or second factor, a disabled
    /// account), for the account's security events. Bounded so that guessing cannot flood the
    /// table: attempts over `security.rate_limit.login_per_account` are refused before any check
    /// and never get here, and whatever the limits, at most ``failedLogInEventsPerHour`` are
    /// recorded per account per trailing hour (counted in the same transaction). Attempts on
    /// addresses with no account are not recorded: they concern nobody.
    func recordFailedLogIn(_ accountID: UUID, reason: String) async throws {
        let now = clock.now()
        try await database.transaction { tx in
            let recent = try await AuditEventRepository(tx).count(
                accountID: accountID, action: AuditAction.accountLoginFailed.rawValue, since: now.addingTimeInterval(-3600)
            )
            guard recent < Self.failedLogInEventsPerHour else { return }
            try await AuditTrail.record(tx, .accountLoginFailed, object: .account(accountID), after: ["reason": reason], account: accountID, now: now)
        }
    }

    /// The account logs out (the session itself is removed by the session middleware).
    public func logOut(accountID: UUID) async throws {
        let now = clock.now()
        try await database.transaction { tx in
            try await AuditTrail.record(tx, .accountLoggedOut, object: .account(accountID), actor: .account(accountID), now: now)
        }
    }

    public func account(id: UUID) async throws -> Account? {
        try await accounts.find(id: id)
    }

    /// How many accounts have `role`.
    public func count(role: Role) async throws -> Int {
        try await accounts.count(role: role)
    }

    /// What ``ensureFirstStaffAccount(email:password:logger:)`` did.
    public enum FirstStaffOutcome: Sendable, Equatable {
        /// Staff accounts already existed; nothing was created.
        case alreadyPresent
        /// This node created the account; `generatedPassword` is set when no password was given.
        case created(email: String, generatedPassword: String?)
    }

    /// Creates the first staff account when the database has none. Safe when several nodes start
    /// at once: the unique e-mail lets exactly one of them create it.
    public func ensureFirstStaffAccount(email: String?, password: String?) async throws -> FirstStaffOutcome {
        guard try await accounts.count(role: .staff) == 0 else { return .alreadyPresent }
        let email = email ?? "admin@steadfast.local"
        let generated = password == nil ? Self.randomPassword() : nil
        do {
            _ = try await register(email: email, password: password ?? generated!, name: "Administrator", role: .staff, sendVerification: false)
        } catch AccountError.duplicateEmail {
            return .alreadyPresent
        }
        return .created(email: email, generatedPassword: generated)
    }

    /// 20 random characters from an unambiguous alphabet (about 115 bits).
    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
