import Foundation
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// Self-service (docs/accounts.md): profile, password change, sessions, e-mail verification and
/// password reset. Mail is enqueued in the outbox inside the transaction that makes its token,
/// so a link is mailed exactly when its token exists (a reset request is queued first, see
/// ``requestPasswordReset(email:clientIP:)``).
extension AccountService {
    /// What a profile update did.
    public struct ProfileUpdate: Sendable {
        public let account: Account
        /// The new address a confirmation link was sent to; it replaces the old one once confirmed.
        public let verificationSentTo: String?
    }

    /// Changes name and profile at once; a different e-mail address is not taken over until the
    /// link mailed to it is followed (the old address stays in force meanwhile).
    public func updateProfile(accountID: UUID, name rawName: String, email rawEmail: String?, profile raw: AccountProfile) async throws -> ProfileUpdate {
        guard let current = try await accounts.find(id: accountID) else { throw AccountError.invalidCredentials }
        let name = try Account.validateName(rawName)
        let profile = try AccountProfile.validated(company: raw.company, phone: raw.phone, address: raw.address)
        let newEmail = try rawEmail.map { try EmailAddress($0) }.flatMap { $0.normalized == current.email.normalized ? nil : $0 }
        if let newEmail, let other = try await accounts.find(email: newEmail), other.id != accountID {
            throw AccountError.duplicateEmail
        }
        let now = clock.now()
        try await database.transaction { tx in
            try await AccountSelfServiceRepository(tx).updateProfile(id: accountID, name: name, profile: profile, now: now)
            if let newEmail {
                try await self.sendVerification(tx, accountID: accountID, name: name, email: newEmail, now: now)
            }
            try await AuditTrail.record(
                tx, .accountProfileUpdated, object: .account(accountID),
                before: ["name": current.name, "company": current.profile.company, "phone": current.profile.phone, "address": current.profile.address],
                after: ["name": name, "company": profile.company, "phone": profile.phone, "address": profile.address]
                    .merging(newEmail.map { ["pending_email": $0.value] } ?? [:]) { $1 },
                account: accountID, now: now
            )
        }
        var updated = current
        updated.name = name
        updated.profile = profile
        return ProfileUpdate(account: updated, verificationSentTo: newEmail?.value)
    }

    /// Mails a link confirming `email` for the account (a new token; older ones stop working).
    func sendVerification(_ tx: any SQLExecutor, accountID: UUID, name: String, email: EmailAddress, now: Date) async throws {
        let token = LinkToken.generate()
        try await AccountSelfServiceRepository(tx).insertToken(
            hash: token.hash, accountID: accountID, purpose: .emailVerification, email: email.value,
            expiresAt: now + settings.verificationTokenTTL.totalSeconds, now: now
        )
        try await outbox.enqueue(
            tx, .emailVerification, to: try MailRecipient(address: email.value, name: name),
            values: [
                "client_name": name, "email": email.value, "verify_url": link("/verify-email/\(token.text)"),
                "expires_in": AccountSettings.spoken(settings.verificationTokenTTL),
            ],
            now: now
        )
    }

    /// Asks for a new verification link for the account's current address (e.g. the first one expired).
    public func resendVerification(accountID: UUID) async throws {
        guard let account = try await accounts.find(id: accountID), account.emailVerifiedAt == nil else { return }
        let now = clock.now()
        try await database.transaction { tx in
            try await self.sendVerification(tx, accountID: account.id, name: account.name, email: account.email, now: now)
            try await AuditTrail.record(tx, .accountEmailVerificationSent, object: .account(account.id), after: ["email": account.email.value], account: account.id, now: now)
        }
    }

    /// Follows a verification link: the address it was sent to becomes the account's, verified.
    @discardableResult
    public func verifyEmail(token: String) async throws -> UUID {
        let now = clock.now()
        return try await database.transaction { tx in
            let repository = AccountSelfServiceRepository(tx)
            guard let consumed = try await repository.consumeToken(hash: LinkToken.hash(of: token), purpose: .emailVerification, now: now),
                let address = consumed.email
            else { throw AccountError.invalidToken }
            let before = try await tx.first("SELECT email FROM accounts WHERE id = \(consumed.accountID)")?.string("email")
            try await repository.setVerifiedEmail(id: consumed.accountID, email: try EmailAddress(address), now: now)
            try await AuditTrail.record(
                tx, .accountEmailVerified, object: .account(consumed.accountID), before: ["email": before ?? ""], after: ["email": address, "verified": "true"],
                account: consumed.accountID, now: now
            )
            return consumed.accountID
        }
    }

    /// Changes the password after checking the current one; every other session of the account
    /// ends (on every node: sessions are read from the database on each request). The session
    /// whose key hashes to `keepingSessionHash` (the caller's) stays.
    public func changePassword(accountID: UUID, current: String, new: String, keepingSessionHash: String?) async throws {
        guard let account = try await accounts.find(id: accountID) else { throw AccountError.invalidCredentials }
        // Guessing the current password through this form counts like log-in attempts.
        if let limiter { try await limiter.hit(.loginPerAccount, key: account.email.normalized) }
        guard current.utf8.count <= 1024, try await hasher.verify(current, hash: account.passwordHash) else {
            throw AccountError.wrongCurrentPassword
        }
        try policy.validate(new, email: account.email)
        let hash = try await hasher.hash(new)
        let now = clock.now()
        try await database.transaction { tx in
            try await AccountSelfServiceRepository(tx).updatePasswordHash(id: accountID, hash: hash, now: now)
            let ended = try await AccountSessionRepository(tx).endAll(accountID: accountID, exceptIDHash: keepingSessionHash, now: now)
            try await AuditTrail.record(tx, .accountPasswordChanged, object: .account(accountID), after: ["sessions_ended": String(ended)], account: accountID, now: now)
        }
    }

    /// The account's live sessions, newest first.
    public func sessions(accountID: UUID, currentSessionHash: String?) async throws -> [AccountSessionRepository.Entry] {
        try await AccountSessionRepository(database).list(accountID: accountID, currentIDHash: currentSessionHash, now: clock.now())
    }

    /// Ends one of the account's own sessions; `false` when it has none with that id.
    public func endSession(accountID: UUID, sessionID: UUID) async throws -> Bool {
        let now = clock.now()
        return try await database.transaction { tx in
            guard try await AccountSessionRepository(tx).end(id: sessionID, accountID: accountID, now: now) else { return false }
            try await AuditTrail.record(tx, .accountSessionEnded, object: AuditObject("session", sessionID), account: accountID, now: now)
            return true
        }
    }

    // MARK: Password reset

    /// Asks for a password reset: when `rawEmail` belongs to an account, a single-use link valid
    /// for `accounts.reset_token_ttl` is mailed to it. The request only queues the address as
    /// typed (one insert, after the rate limits, which count known and unknown addresses alike);
    /// the mail-delivery job looks it up and makes the link (``mailQueuedPasswordResets(limit:)``)
    /// before it sends what is due, so the mail is no later than before. Looking the address up
    /// here would make a known address cost a token, an outbox row, an audit event and a
    /// committed write that an unknown one does not — a difference anyone can time. Over a
    /// limit: ``RateLimited``.
    public func requestPasswordReset(email rawEmail: String, clientIP: String?) async throws {
        let normalized = (try? EmailAddress(rawEmail).normalized) ?? rawEmail.lowercased()
        if let limiter {
            if let clientIP { try await limiter.hit(.passwordResetPerIP, key: clientIP) }
            try await limiter.hit(.passwordResetPerAccount, key: normalized)
        }
        let origin = AuditTrail.origin
        try await AccountSelfServiceRepository(database).queueResetRequest(.init(
            // Longer than any address: stored cut short, and the job finds no account for it.
            id: UUID(), email: String(rawEmail.prefix(Self.longestQueuedAddress)), ip: origin.ip, nodeID: origin.nodeID,
            requestID: origin.requestID, requestedAt: clock.now()
        ))
    }

    /// What a queued reset request keeps of the typed address (an address has at most 254).
    static let longestQueuedAddress = 320

    /// Handles up to `limit` queued reset requests, oldest first (the mail-delivery job, before
    /// sending): each is taken in its own transaction, and for an address with an account a new
    /// token (voiding older ones), the mail in the outbox and the `account.password_reset_requested`
    /// event — with the request's IP, node and id — commit together. Returns how many links were
    /// mailed. A request whose transaction fails stays queued for the next run.
    @discardableResult
    public func mailQueuedPasswordResets(limit: Int = 500) async throws -> Int {
        var mailed = 0
        for id in try await AccountSelfServiceRepository(database).queuedResetRequestIDs(limit: limit) {
            let now = clock.now()
            let sent = try await database.transaction { tx in
                guard let request = try await AccountSelfServiceRepository(tx).takeResetRequest(id: id) else { return false }
                // Nobody is logged in to a reset request: the system acted, from the request.
                let origin = AuditOrigin(actor: .system, ip: request.ip, nodeID: request.nodeID, requestID: request.requestID)
                return try await AuditTrail.$origin.withValue(origin) { try await self.mailResetLink(tx, typed: request.email, now: now) }
            }
            if sent { mailed += 1 }
        }
        return mailed
    }

    /// The link for the account `typed` names, if any, in `tx`; whether one was mailed.
    private func mailResetLink(_ tx: any SQLExecutor, typed: String, now: Date) async throws -> Bool {
        guard let email = try? EmailAddress(typed),
            let row = try await tx.first("SELECT id, name, email FROM accounts WHERE email_normalized = \(email.normalized)")
        else { return false }
        // Mail goes to the address on the account, not to the spelling typed in the form.
        let accountID = try row.uuid("id"), name = try row.string("name")
        guard let recipient = try? MailRecipient(address: try row.string("email"), name: name) else { return false }
        let token = LinkToken.generate()
        let ttl = settings.resetTokenTTL
        try await AccountSelfServiceRepository(tx).insertToken(
            hash: token.hash, accountID: accountID, purpose: .passwordReset, email: nil, expiresAt: now + ttl.totalSeconds, now: now
        )
        try await outbox.enqueue(
            tx, .passwordReset, to: recipient,
            values: ["client_name": name, "reset_url": link("/password-reset/\(token.text)"), "expires_in": AccountSettings.spoken(ttl)], now: now
        )
        try await AuditTrail.record(tx, .accountPasswordResetRequested, object: .account(accountID), account: accountID, now: now)
        return true
    }

    /// Whether a reset link is still usable (the form is shown only for one that is).
    public func resetTokenIsValid(_ token: String) async throws -> Bool {
        try await AccountSelfServiceRepository(database).tokenIsValid(hash: LinkToken.hash(of: token), purpose: .passwordReset, now: clock.now())
    }

    /// Sets a new password with a reset link's token: the token is used up, and every session of
    /// the account ends. An unknown, used or expired token is ``AccountError/invalidToken``.
    public func confirmPasswordReset(token: String, newPassword: String) async throws {
        let hash = LinkToken.hash(of: token)
        guard token.utf8.count <= 128, let accountID = try await passwordTokenAccountID(hash: hash),
            let account = try await accounts.find(id: accountID)
        else { throw AccountError.invalidToken }
        try await setPassword(newPassword, of: account, consumingToken: hash) { tx, now in
            let ended = try await AccountSessionRepository(tx).endAll(accountID: account.id, exceptIDHash: nil, now: now)
            try await AuditTrail.record(tx, .accountPasswordReset, object: .account(account.id), after: ["sessions_ended": String(ended)], account: account.id, now: now)
        }
    }

    /// The account behind an unused, unexpired password token: a reset link's or a client
    /// user's invitation (both `password_reset` tokens), without using it up.
    func passwordTokenAccountID(hash: String) async throws -> UUID? {
        try await AccountSelfServiceRepository(database).tokenAccountID(hash: hash, purpose: .passwordReset, now: clock.now())
    }

    /// The one way a single-use password token (a reset link, an invitation) sets `account`'s
    /// password: checked against the policy and hashed before the transaction (the write lock is
    /// never held for a hash); in it, the token is used up and the hash stored, then `andThen`
    /// runs in the same transaction at the same `now`. A token that is no longer usable, or not
    /// this account's, is ``AccountError/invalidToken``.
    func setPassword(
        _ password: String, of account: Account, consumingToken hash: String,
        andThen: @escaping @Sendable (_ tx: any SQLExecutor, _ now: Date) async throws -> Void
    ) async throws {
        try policy.validate(password, email: account.email)
        let passwordHash = try await hasher.hash(password)
        let now = clock.now()
        try await database.transaction { tx in
            let repository = AccountSelfServiceRepository(tx)
            // The conditional update is the single-use guarantee: of two nodes taking the same
            // token at once, one gets the row and the other rolls back.
            guard let consumed = try await repository.consumeToken(hash: hash, purpose: .passwordReset, now: now), consumed.accountID == account.id else {
                throw AccountError.invalidToken
            }
            try await repository.updatePasswordHash(id: account.id, hash: passwordHash, now: now)
            try await andThen(tx, now)
        }
    }

    /// An absolute link when `http.public_url` is set, else a path.
    func link(_ path: String) -> String {
        settings.publicURL.isEmpty ? path : settings.publicURL + path
    }
}
