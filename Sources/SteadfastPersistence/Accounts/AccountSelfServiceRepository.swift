import Foundation
import SteadfastDomain

/// Writes of account self-service (docs/accounts.md): profile, password, e-mail verification,
/// and the single-use tokens of reset and verification links. Each takes the executor it runs
/// on, so a service groups them in one transaction with the mail they cause.
public struct AccountSelfServiceRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// What a link token is for.
    public enum Purpose: String, Sendable {
        case passwordReset = "password_reset"
        case emailVerification = "email_verification"
    }

    /// A token that was valid and is now used.
    public struct ConsumedToken: Sendable, Equatable {
        public let accountID: UUID
        /// For verification: the address the link was sent to.
        public let email: String?
    }

    public func updateProfile(id: UUID, name: String, profile: AccountProfile, now: Date) async throws {
        try await db.query("""
            UPDATE accounts SET name = \(name), company = \(profile.company), phone = \(profile.phone), address = \(profile.address), updated_at = \(now)
            WHERE id = \(id)
            """)
    }

    public func updatePasswordHash(id: UUID, hash: String, now: Date) async throws {
        try await db.query("UPDATE accounts SET password_hash = \(hash), updated_at = \(now) WHERE id = \(id)")
    }

    /// Sets the account's address to `email` (verified now); a taken address is
    /// ``AccountError/duplicateEmail``.
    public func setVerifiedEmail(id: UUID, email: EmailAddress, now: Date) async throws {
        do {
            try await db.query("""
                UPDATE accounts SET email = \(email.value), email_normalized = \(email.normalized), email_verified_at = \(now), updated_at = \(now)
                WHERE id = \(id)
                """)
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw AccountError.duplicateEmail
        }
    }

    /// Stores a token by its hash. Earlier unused tokens of the same purpose for the account stop
    /// working: only the newest link is valid.
    public func insertToken(hash: String, accountID: UUID, purpose: Purpose, email: String?, expiresAt: Date, now: Date) async throws {
        try await db.query("""
            UPDATE account_tokens SET used_at = \(now)
            WHERE account_id = \(accountID) AND purpose = \(purpose.rawValue) AND used_at IS NULL
            """)
        try await db.query("""
            INSERT INTO account_tokens (token_hash, account_id, purpose, email, expires_at, created_at)
            VALUES (\(hash), \(accountID), \(purpose.rawValue), \(email), \(expiresAt), \(now))
            """)
    }

    /// Marks the token used if it is unused and unexpired, and says whose it was; `nil` when it
    /// is unknown, used or expired. The conditional update makes it single use even when two
    /// nodes take it at once.
    public func consumeToken(hash: String, purpose: Purpose, now: Date) async throws -> ConsumedToken? {
        let row = try await db.first("""
            UPDATE account_tokens SET used_at = \(now)
            WHERE token_hash = \(hash) AND purpose = \(purpose.rawValue) AND used_at IS NULL AND expires_at > \(now)
            RETURNING account_id, email
            """)
        return try row.map { ConsumedToken(accountID: try $0.uuid("account_id"), email: try $0.optionalString("email")) }
    }

    /// Whether the token is unused and unexpired (the HTML form checks before asking for a password).
    public func tokenIsValid(hash: String, purpose: Purpose, now: Date) async throws -> Bool {
        try await tokenAccountID(hash: hash, purpose: purpose, now: now) != nil
    }

    /// The account of an unused, unexpired token, without using it up; `nil` when it is
    /// unknown, used or expired.
    public func tokenAccountID(hash: String, purpose: Purpose, now: Date) async throws -> UUID? {
        try await db.first("""
            SELECT account_id FROM account_tokens WHERE token_hash = \(hash) AND purpose = \(purpose.rawValue) AND used_at IS NULL AND expires_at > \(now)
            """).map { try $0.uuid("account_id") }
    }

    /// Deletes tokens that expired before `cutoff`; returns how many.
    @discardableResult
    public func deleteExpiredTokens(before cutoff: Date) async throws -> Int {
        try await db.query("DELETE FROM account_tokens WHERE expires_at <= \(cutoff) RETURNING token_hash").count
    }
}
