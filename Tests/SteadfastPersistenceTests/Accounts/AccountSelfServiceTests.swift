import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastSessions
import SteadfastTestSupport
import Testing

/// Password reset, e-mail verification, password change and sessions (docs/accounts.md), on
/// both engines, with the clock injected.
@Suite struct AccountSelfServiceTests {
    static let password = "correct horse battery"

    func service(_ db: any SQLDatabase, clock: ManualClock, ttl: Duration = .seconds(3600)) -> AccountService {
        AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: clock, settings: AccountSettings(resetTokenTTL: ttl, publicURL: "https://portal.example.com"))
    }

    /// The token in the newest mail of `template` to `address` (links end with it).
    static func tokenInMail(_ db: any SQLDatabase, template: String, to address: String) async throws -> String? {
        let rows = try await db.query("SELECT text_body FROM mail_outbox WHERE template = \(template) AND to_address = \(address) ORDER BY created_at DESC")
        guard let body = try rows.first?.string("text_body") else { return nil }
        let marker = template == "password_reset" ? "/password-reset/" : "/verify-email/"
        guard let range = body.range(of: marker) else { return nil }
        return String(body[range.upperBound...].prefix(while: { $0.isHexDigit }))
    }

    static func mailCount(_ db: any SQLDatabase) async throws -> Int64 {
        try await db.first("SELECT COUNT(*) AS n FROM mail_outbox")?.int("n") ?? 0
    }

    /// Makes a live session row for the account, as a log-in would; returns its key's hash.
    static func session(_ db: any SQLDatabase, account: UUID, clock: ManualClock) async throws -> String {
        let hash = DatabasePersistDriver.hash(key: "session.\(UUID())")
        try await SessionRecordRepository(database: db).insert(idHash: hash, data: "{}", expiresAt: clock.now() + 3600, now: clock.now(), accountID: account)
        return hash
    }

    @Test(arguments: EngineKind.allCases)
    func aResetLinkWorksOnceEndsEverySessionAndExpires(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let accounts = service(db, clock: clock)
            let account = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            _ = try await Self.session(db, account: account.id, clock: clock)
            _ = try await Self.session(db, account: account.id, clock: clock)
            #expect(try await accounts.sessions(accountID: account.id, currentSessionHash: nil).count == 2)
            try await accounts.requestPasswordReset(email: "ANN@example.com", clientIP: "192.0.2.1")
            // The request only queues the address; the mail-delivery job makes the link.
            #expect(try await Self.tokenInMail(db, template: "password_reset", to: "ann@example.com") == nil)
            #expect(try await accounts.mailQueuedPasswordResets() == 1)
            let token = try #require(try await Self.tokenInMail(db, template: "password_reset", to: "ann@example.com"))
            #expect(token.count == 64)
            // Stored hashed: the table never holds the token.
            #expect(try await db.first("SELECT COUNT(*) AS n FROM account_tokens WHERE token_hash = \(token)")?.int("n") == 0)
            #expect(try await accounts.resetTokenIsValid(token))

            try await accounts.confirmPasswordReset(token: token, newPassword: "a brand new secret")
            #expect(try await accounts.authenticate(email: "ann@example.com", password: "a brand new secret").id == account.id)
            #expect(try await accounts.sessions(accountID: account.id, currentSessionHash: nil).isEmpty)
            // Single use.
            await #expect(throws: AccountError.invalidToken) { try await accounts.confirmPasswordReset(token: token, newPassword: "yet another secret") }

            // Expiry: valid until the TTL, refused after it.
            clock.advance(by: 1)
            try await accounts.requestPasswordReset(email: "ann@example.com", clientIP: nil)
            try await accounts.mailQueuedPasswordResets()
            let second = try #require(try await Self.tokenInMail(db, template: "password_reset", to: "ann@example.com"))
            clock.advance(by: 3599)
            #expect(try await accounts.resetTokenIsValid(second))
            clock.advance(by: 2)
            #expect(try await !accounts.resetTokenIsValid(second))
            await #expect(throws: AccountError.invalidToken) { try await accounts.confirmPasswordReset(token: second, newPassword: "yet another secret") }
            await #expect(throws: AccountError.invalidToken) { try await accounts.confirmPasswordReset(token: String(repeating: "0", count: 64), newPassword: "yet another secret") }
            // The session-cleanup job's sweep removes expired tokens, and only those.
            let rows = try await db.first("SELECT COUNT(*) AS n FROM account_tokens")?.int("n") ?? 0
            #expect(try await AccountSelfServiceRepository(db).deleteExpiredTokens(before: clock.now()) >= 1)
            #expect(try await db.first("SELECT COUNT(*) AS n FROM account_tokens WHERE expires_at <= \(clock.now())")?.int("n") == 0)
            #expect(rows >= 2)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aNewerResetLinkVoidsTheOlderOne(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let accounts = service(db, clock: clock)
            _ = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            try await accounts.requestPasswordReset(email: "ann@example.com", clientIP: nil)
            try await accounts.mailQueuedPasswordResets()
            let first = try #require(try await Self.tokenInMail(db, template: "password_reset", to: "ann@example.com"))
            clock.advance(by: 1)
            try await accounts.requestPasswordReset(email: "ann@example.com", clientIP: nil)
            try await accounts.mailQueuedPasswordResets()
            let second = try #require(try await Self.tokenInMail(db, template: "password_reset", to: "ann@example.com"))
            #expect(first != second)
            #expect(try await !accounts.resetTokenIsValid(first))
            #expect(try await accounts.resetTokenIsValid(second))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func anUnknownAddressIsAnsweredTheSameAndSendsNothing(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let accounts = service(db, clock: clock)
            _ = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            let before = try await Self.mailCount(db)
            // No error, no mail, no token: the caller cannot tell. The request does the same for
            // every address: it queues what was typed, and the job finds no account for these.
            try await accounts.requestPasswordReset(email: "nobody@example.com", clientIP: nil)
            try await accounts.requestPasswordReset(email: "not an address", clientIP: nil)
            try await accounts.requestPasswordReset(email: String(repeating: "x", count: 5000) + "@example.com", clientIP: nil)
            let queued = try await db.query("SELECT email FROM password_reset_requests ORDER BY email").map { try $0.string("email") }
            #expect(queued.count == 3 && queued.contains("nobody@example.com") && queued.allSatisfy { $0.count <= 320 })
            #expect(try await accounts.mailQueuedPasswordResets() == 0)
            #expect(try await db.first("SELECT COUNT(*) AS n FROM password_reset_requests")?.int("n") == 0)
            #expect(try await Self.mailCount(db) == before)
            #expect(try await db.first("SELECT COUNT(*) AS n FROM account_tokens WHERE purpose = 'password_reset'")?.int("n") == 0)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func registrationMailsAVerificationLinkAndAnEmailChangeWaitsForItsLink(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let accounts = service(db, clock: clock)
            let account = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            #expect(try await accounts.account(id: account.id)?.emailVerifiedAt == nil)
            let token = try #require(try await Self.tokenInMail(db, template: "email_verification", to: "ann@example.com"))
            try await accounts.verifyEmail(token: token)
            #expect(try await accounts.account(id: account.id)?.emailVerifiedAt == clock.now())
            await #expect(throws: AccountError.invalidToken) { try await accounts.verifyEmail(token: token) }

            // A new address: the old one stays until the link sent to the new one is followed.
            let update = try await accounts.updateProfile(
                accountID: account.id, name: "Ann B", email: "ann.b@example.com", profile: AccountProfile(company: "ACME", phone: "+49 30 1234", address: "1 Road\nTown")
            )
            #expect(update.verificationSentTo == "ann.b@example.com")
            var stored = try #require(try await accounts.account(id: account.id))
            #expect(stored.email.value == "ann@example.com" && stored.name == "Ann B" && stored.profile.address == "1 Road\nTown")
            let change = try #require(try await Self.tokenInMail(db, template: "email_verification", to: "ann.b@example.com"))
            try await accounts.verifyEmail(token: change)
            stored = try #require(try await accounts.account(id: account.id))
            #expect(stored.email.value == "ann.b@example.com")
            // A taken address is refused, and bad fields name themselves.
            _ = try await accounts.register(email: "bob@example.com", password: Self.password, name: "Bob")
            await #expect(throws: AccountError.duplicateEmail) {
                try await accounts.updateProfile(accountID: account.id, name: "Ann", email: "BOB@example.com", profile: AccountProfile())
            }
            await #expect(throws: AccountError.invalidProfile(field: "phone", "phone may hold only digits, spaces and + - ( ) .")) {
                try await accounts.updateProfile(accountID: account.id, name: "Ann", email: nil, profile: AccountProfile(phone: "call me"))
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func changingThePasswordEndsEveryOtherSessionAndSessionsAreTheAccountsOwn(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let accounts = service(db, clock: clock)
            let ann = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            let bob = try await accounts.register(email: "bob@example.com", password: Self.password, name: "Bob")
            let current = try await Self.session(db, account: ann.id, clock: clock)
            _ = try await Self.session(db, account: ann.id, clock: clock)
            let bobs = try await Self.session(db, account: bob.id, clock: clock)
            let list = try await accounts.sessions(accountID: ann.id, currentSessionHash: current)
            #expect(list.count == 2 && list.filter(\.isCurrent).count == 1)
            // Bob cannot end Ann's session: as if it did not exist.
            #expect(try await !accounts.endSession(accountID: bob.id, sessionID: list[0].id))
            #expect(try await accounts.sessions(accountID: ann.id, currentSessionHash: current).count == 2)

            await #expect(throws: AccountError.wrongCurrentPassword) {
                try await accounts.changePassword(accountID: ann.id, current: "wrong horse battery", new: "a brand new secret", keepingSessionHash: current)
            }
            await #expect(throws: AccountError.weakPassword("password is too common")) {
                try await accounts.changePassword(accountID: ann.id, current: Self.password, new: "password123", keepingSessionHash: current)
            }
            try await accounts.changePassword(accountID: ann.id, current: Self.password, new: "a brand new secret", keepingSessionHash: current)
            let left = try await accounts.sessions(accountID: ann.id, currentSessionHash: current)
            #expect(left.count == 1 && left[0].isCurrent)
            // Bob's session is untouched.
            #expect(try await SessionRecordRepository(database: db).find(idHash: bobs, now: clock.now()) != nil)
            // Ending one's own session works once.
            #expect(try await accounts.endSession(accountID: ann.id, sessionID: left[0].id))
            #expect(try await !accounts.endSession(accountID: ann.id, sessionID: left[0].id))
            #expect(try await SessionRecordRepository(database: db).find(idHash: current, now: clock.now()) == nil)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aTOTPCodeIsAcceptedOnceAndRecoveryCodesWorkOnce(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let accounts = service(db, clock: clock)
            let ann = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            let enrolment = try await accounts.startTOTPEnrolment(accountID: ann.id)
            #expect(enrolment.otpauthURI.hasPrefix("otpauth://totp/Steadfast:ann%40example.com?secret=\(enrolment.secret)&"))
            let totp = try #require(TOTP(base32: enrolment.secret))
            await #expect(throws: AccountError.invalidSecondFactor) { try await accounts.confirmTOTP(accountID: ann.id, code: "000000" == totp.code(at: clock.now()) ? "111111" : "000000") }
            let codes = try await accounts.confirmTOTP(accountID: ann.id, code: totp.code(at: clock.now()))
            #expect(codes.count == 10)
            #expect(try await accounts.account(id: ann.id)?.twoFactorEnabled == true)
            // Stored hashed.
            for code in codes { #expect(try await db.first("SELECT 1 AS x FROM account_recovery_codes WHERE code_hash = \(code)") == nil) }

            // The code used to confirm is spent; the next step's is accepted once.
            await #expect(throws: AccountError.invalidSecondFactor) { try await accounts.verifySecondFactor(accountID: ann.id, code: totp.code(at: clock.now())) }
            clock.advance(by: 30)
            let next = totp.code(at: clock.now())
            try await accounts.verifySecondFactor(accountID: ann.id, code: next)
            await #expect(throws: AccountError.invalidSecondFactor) { try await accounts.verifySecondFactor(accountID: ann.id, code: next) }
            // Two steps late is too late.
            clock.advance(by: 30)
            let late = totp.code(at: clock.now())
            clock.advance(by: 60)
            await #expect(throws: AccountError.invalidSecondFactor) { try await accounts.verifySecondFactor(accountID: ann.id, code: late) }

            try await accounts.verifySecondFactor(accountID: ann.id, code: codes[0].uppercased())
            await #expect(throws: AccountError.invalidSecondFactor) { try await accounts.verifySecondFactor(accountID: ann.id, code: codes[0]) }
            #expect(try await accounts.remainingRecoveryCodes(accountID: ann.id) == 9)
            await #expect(throws: AccountError.twoFactorAlreadyEnabled) { try await accounts.startTOTPEnrolment(accountID: ann.id) }

            try await accounts.disableTOTP(accountID: ann.id, code: codes[1])
            #expect(try await accounts.account(id: ann.id)?.twoFactorEnabled == false)
            #expect(try await accounts.remainingRecoveryCodes(accountID: ann.id) == 0)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func secondFactorGuessesAreRateLimited(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let limiter = RateLimiter(database: db, limits: [.secondFactor: RateLimit(limit: 3, window: .seconds(900))!], clock: clock)
            let accounts = AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: clock, limiter: limiter)
            let ann = try await accounts.register(email: "ann@example.com", password: Self.password, name: "Ann")
            let totp = try #require(TOTP(base32: try await accounts.startTOTPEnrolment(accountID: ann.id).secret))
            _ = try await accounts.confirmTOTP(accountID: ann.id, code: totp.code(at: clock.now()))
            clock.advance(by: 30)
            for _ in 0..<3 {
                await #expect(throws: AccountError.invalidSecondFactor) { try await accounts.verifySecondFactor(accountID: ann.id, code: "abcde-abcde") }
            }
            // Even the right code is refused once the window's tries are spent.
            await #expect(throws: RateLimited.self) { try await accounts.verifySecondFactor(accountID: ann.id, code: totp.code(at: clock.now())) }
        }
    }
}
