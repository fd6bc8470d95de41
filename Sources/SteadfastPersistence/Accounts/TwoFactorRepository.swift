import Foundation
import SteadfastDomain

/// TOTP secrets and recovery codes (docs/accounts.md). The replay guard is in the database:
/// ``recordUsedStep(accountID:step:)`` accepts a step only by raising `last_used_step`, so the
/// same code is refused on every node once any node took it.
public struct TwoFactorRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// An account's TOTP row.
    public struct Enrolment: Sendable, Equatable {
        public let secret: String
        public let confirmed: Bool
        public let lastUsedStep: Int64?
    }

    public func enrolment(accountID: UUID) async throws -> Enrolment? {
        try await db.first("SELECT secret, confirmed_at, last_used_step FROM account_totp WHERE account_id = \(accountID)").map {
            Enrolment(secret: try $0.string("secret"), confirmed: !(try $0.isNull("confirmed_at")), lastUsedStep: try $0.optionalInt("last_used_step"))
        }
    }

    /// Starts (or restarts) an unconfirmed enrolment with `secret`; refused (returns `false`)
    /// while a confirmed one exists.
    public func startEnrolment(accountID: UUID, secret: String, now: Date) async throws -> Bool {
        try await db.query("DELETE FROM account_totp WHERE account_id = \(accountID) AND confirmed_at IS NULL")
        let rows = try await db.query("""
            INSERT INTO account_totp (account_id, secret, created_at) VALUES (\(accountID), \(secret), \(now))
            ON CONFLICT (account_id) DO NOTHING
            RETURNING account_id
            """)
        return !rows.isEmpty
    }

    /// Records that a code of `step` was accepted, if `step` is newer than any used before;
    /// `false`: replayed (this or a later step was already used, perhaps on another node).
    public func recordUsedStep(accountID: UUID, step: Int64) async throws -> Bool {
        let rows = try await db.query("""
            UPDATE account_totp SET last_used_step = \(step)
            WHERE account_id = \(accountID) AND (last_used_step IS NULL OR last_used_step < \(step))
            RETURNING account_id
            """)
        return !rows.isEmpty
    }

    /// Confirms the enrolment, turns two-factor log-in on and stores the recovery codes' hashes
    /// (replacing any earlier ones).
    public func confirm(accountID: UUID, recoveryCodeHashes: [String], now: Date) async throws {
        try await db.query("UPDATE account_totp SET confirmed_at = \(now) WHERE account_id = \(accountID)")
        try await db.query("UPDATE accounts SET two_factor_enabled_at = \(now), updated_at = \(now) WHERE id = \(accountID)")
        try await db.query("DELETE FROM account_recovery_codes WHERE account_id = \(accountID)")
        for hash in recoveryCodeHashes {
            try await db.query("INSERT INTO account_recovery_codes (account_id, code_hash, created_at) VALUES (\(accountID), \(hash), \(now))")
        }
    }

    /// Turns two-factor log-in off: the secret and the recovery codes are deleted.
    public func disable(accountID: UUID, now: Date) async throws {
        try await db.query("DELETE FROM account_totp WHERE account_id = \(accountID)")
        try await db.query("DELETE FROM account_recovery_codes WHERE account_id = \(accountID)")
        try await db.query("UPDATE accounts SET two_factor_enabled_at = NULL, updated_at = \(now) WHERE id = \(accountID)")
    }

    /// Uses the recovery code with this hash, if it is the account's and unused.
    public func useRecoveryCode(accountID: UUID, hash: String, now: Date) async throws -> Bool {
        let rows = try await db.query("""
            UPDATE account_recovery_codes SET used_at = \(now)
            WHERE account_id = \(accountID) AND code_hash = \(hash) AND used_at IS NULL
            RETURNING account_id
            """)
        return !rows.isEmpty
    }

    /// How many recovery codes are left.
    public func remainingRecoveryCodes(accountID: UUID) async throws -> Int {
        Int(try await db.first("SELECT COUNT(*) AS n FROM account_recovery_codes WHERE account_id = \(accountID) AND used_at IS NULL")?.int("n") ?? 0)
    }
}
