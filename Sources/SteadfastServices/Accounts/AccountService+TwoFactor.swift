import Crypto
import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Two-factor log-in with TOTP (RFC 6238) and recovery codes (docs/accounts.md).
extension AccountService {
    /// A started enrolment: what the authenticator app needs.
    public struct TOTPEnrolment: Sendable, Equatable {
        public let secret: String
        public let otpauthURI: String
    }

    /// Starts enrolment with a new secret (replacing an unconfirmed one); two-factor log-in is
    /// on only after ``confirmTOTP(accountID:code:)``.
    public func startTOTPEnrolment(accountID: UUID) async throws -> TOTPEnrolment {
        guard let account = try await accounts.find(id: accountID) else { throw AccountError.invalidCredentials }
        guard !account.twoFactorEnabled else { throw AccountError.twoFactorAlreadyEnabled }
        var generator = SystemRandomNumberGenerator()
        let totp = TOTP.generate(using: &generator)
        let now = clock.now()
        let started = try await database.transaction { tx in
            guard try await TwoFactorRepository(tx).startEnrolment(accountID: accountID, secret: totp.base32Secret, now: now) else { return false }
            try await AuditTrail.record(tx, .accountTwoFactorEnrolmentStarted, object: .account(accountID), account: accountID, now: now)
            return true
        }
        guard started else { throw AccountError.twoFactorAlreadyEnabled }
        return TOTPEnrolment(secret: totp.base32Secret, otpauthURI: totp.provisioningURI(issuer: settings.issuer, accountName: account.email.value))
    }

    /// The unconfirmed enrolment in progress, if any (the enrolment page shows it again).
    public func pendingTOTPEnrolment(accountID: UUID) async throws -> TOTPEnrolment? {
        guard let account = try await accounts.find(id: accountID),
            let enrolment = try await TwoFactorRepository(database).enrolment(accountID: accountID), !enrolment.confirmed,
            let totp = TOTP(base32: enrolment.secret)
        else { return nil }
        return TOTPEnrolment(secret: enrolment.secret, otpauthURI: totp.provisioningURI(issuer: settings.issuer, accountName: account.email.value))
    }

    /// Confirms enrolment with a code from the app: two-factor log-in is on, and the ten
    /// recovery codes (stored hashed) are returned to be shown once.
    public func confirmTOTP(accountID: UUID, code: String) async throws -> [String] {
        guard let enrolment = try await TwoFactorRepository(database).enrolment(accountID: accountID), !enrolment.confirmed,
            let totp = TOTP(base32: enrolment.secret)
        else { throw AccountError.twoFactorNotEnabled }
        guard case .accepted(let step) = totp.verify(code, at: clock.now(), lastUsedStep: enrolment.lastUsedStep) else {
            throw AccountError.invalidSecondFactor
        }
        var generator = SystemRandomNumberGenerator()
        let codes = RecoveryCodes.generate(using: &generator)
        let hashes = codes.map { Self.recoveryCodeHash(accountID: accountID, code: RecoveryCodes.normalize($0)!) }
        let now = clock.now()
        try await database.transaction { tx in
            let repository = TwoFactorRepository(tx)
            guard try await repository.recordUsedStep(accountID: accountID, step: step) else { throw AccountError.invalidSecondFactor }
            try await repository.confirm(accountID: accountID, recoveryCodeHashes: hashes, now: now)
            try await AuditTrail.record(tx, .accountTwoFactorEnabled, object: .account(accountID), before: ["two_factor": "off"], after: ["two_factor": "totp"], account: accountID, now: now)
        }
        return codes
    }

    /// Turns two-factor log-in off; needs a current code (TOTP or recovery).
    public func disableTOTP(accountID: UUID, code: String) async throws {
        try await verifySecondFactor(accountID: accountID, code: code)
        let now = clock.now()
        try await database.transaction { tx in
            try await TwoFactorRepository(tx).disable(accountID: accountID, now: now)
            try await AuditTrail.record(tx, .accountTwoFactorDisabled, object: .account(accountID), before: ["two_factor": "totp"], after: ["two_factor": "off"], account: accountID, now: now)
        }
    }

    /// Completes a log-in waiting for its second factor: checks the code
    /// (``verifySecondFactor(accountID:code:)``) and records the log-in.
    public func completeLogIn(accountID: UUID, code: String) async throws {
        do {
            try await verifySecondFactor(accountID: accountID, code: code)
        } catch AccountError.invalidSecondFactor {
            try await recordFailedLogIn(accountID, reason: "second_factor")
            throw AccountError.invalidSecondFactor
        }
        try await recordLogIn(accountID, method: "password+second_factor")
    }

    /// Checks a second-factor code for the account: a TOTP code (accepted once: the step is
    /// recorded in the database, so a replay fails on every node) or an unused recovery code
    /// (used up). Each try counts against `security.rate_limit.second_factor`.
    public func verifySecondFactor(accountID: UUID, code: String) async throws {
        if let limiter { try await limiter.hit(.secondFactor, key: accountID.uuidString.lowercased()) }
        let repository = TwoFactorRepository(database)
        guard let enrolment = try await repository.enrolment(accountID: accountID), enrolment.confirmed, let totp = TOTP(base32: enrolment.secret) else {
            throw AccountError.twoFactorNotEnabled
        }
        switch totp.verify(code, at: clock.now(), lastUsedStep: enrolment.lastUsedStep) {
        case .accepted(let step):
            guard try await repository.recordUsedStep(accountID: accountID, step: step) else { throw AccountError.invalidSecondFactor }
        case .replayed, .wrong:
            throw AccountError.invalidSecondFactor
        case .malformed:
            guard let normalized = RecoveryCodes.normalize(code),
                try await repository.useRecoveryCode(accountID: accountID, hash: Self.recoveryCodeHash(accountID: accountID, code: normalized), now: clock.now())
            else { throw AccountError.invalidSecondFactor }
        }
    }

    /// Recovery codes left unused.
    public func remainingRecoveryCodes(accountID: UUID) async throws -> Int {
        try await TwoFactorRepository(database).remainingRecoveryCodes(accountID: accountID)
    }

    /// SHA-256 of the account id and the normalised code: codes carry 50 random bits, so a
    /// fast hash is enough, and the account id keeps equal codes of two accounts apart.
    static func recoveryCodeHash(accountID: UUID, code: String) -> String {
        APITokenService.hex(SHA256.hash(data: Data("\(accountID.uuidString.lowercased()):\(code)".utf8)))
    }
}
