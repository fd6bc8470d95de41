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

    /// A password-reset request as typed, waiting for the mail-delivery job (migration 680).
    public struct ResetRequest: Sendable, Equatable {
        public let id: UUID
        /// The address as typed: not looked up (nor even parsed) until the job takes it.
        public let email: String
        /// The request's client IP, node and id, for the audit event the job writes.
        public let ip: String?
        public let nodeID: String
        public let requestID: String?
        public let requestedAt: Date

        public init(id: UUID, email: String, ip: String?, nodeID: String, requestID: String?, requestedAt: Date) {
            self.id = id
            self.email = email
            self.ip = ip
            self.nodeID = nodeID
            self.requestID = requestID
            self.requestedAt = requestedAt
        }
    }

    /// Queues a reset request: one insert, the same for every address.
    public func queueResetRequest(_ request: ResetRequest) async throws {
        try await db.query("""
            INSERT INTO password_reset_requests (id, email, ip, node_id, request_id, requested_at)
            VALUES (\(request.id), \(request.email), \(request.ip), \(request.nodeID), \(request.requestID), \(request.requestedAt))
            """)
    }

    /// The ids of the oldest `limit` queued reset requests.
    public func queuedResetRequestIDs(limit: Int) async throws -> [UUID] {
        try await db.query("SELECT id FROM password_reset_requests ORDER BY requested_at, id LIMIT \(limit)").map { try $0.uuid("id") }
    }

    /// Removes a queued request and returns it; `nil` when another run took it first (the
    /// delete is the claim, so each request is handled once even by overlapping runs).
    public func takeResetRequest(id: UUID) async throws -> ResetRequest? {
        let row = try await db.first("""
            DELETE FROM password_reset_requests WHERE id = \(id)
            RETURNING id, email, ip, node_id, request_id, requested_at
            """)
        return try row.map {
            ResetRequest(
                id: try $0.uuid("id"), email: try $0.string("email"), ip: try $0.optionalString("ip"), nodeID: try $0.string("node_id"),
                requestID: try $0.optionalString("request_id"), requestedAt: try $0.date("requested_at")
            )
        }
    }

    /// Deletes tokens that expired before `cutoff`; returns how many.
    @discardableResult
    public func deleteExpiredTokens(before cutoff: Date) async throws -> Int {
        try await db.query("DELETE FROM account_tokens WHERE expires_at <= \(cutoff) RETURNING token_hash").count
    }
}
