import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// `/api/v1/me/*` and `/api/v1/auth/password-reset*`, `/api/v1/auth/verify-email`,
/// `/api/v1/auth/login/second-factor` (docs/accounts.md). Every `/me` route acts on the
/// logged-in account only; a session id of another account is 404.
struct MeAPIController: Sendable {
    let accounts: AccountService
    let sessions: SessionIssuer
    let settings: AccountSettings
    let clock: any WallClock

    struct ProfileRequest: Decodable {
        let name: String
        let email: String?
        let company: String?
        let phone: String?
        let address: String?
    }

    struct PasswordRequest: Decodable {
        let currentPassword: String
        let newPassword: String
    }

    struct CodeRequest: Decodable {
        let code: String
    }

    struct ResetRequest: Decodable {
        let email: String
    }

    struct ResetConfirmRequest: Decodable {
        let token: String
        let password: String
    }

    struct TokenRequest: Decodable {
        let token: String
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        api.put("me", use: updateProfile)
        api.post("me/password", use: changePassword)
        api.get("me/sessions", use: listSessions)
        api.delete("me/sessions/{id}", use: endSession)
        api.post("me/2fa/totp", use: startTOTP)
        api.post("me/2fa/totp/confirm", use: confirmTOTP)
        api.delete("me/2fa/totp", use: disableTOTP)
        api.post("me/verify-email/resend", use: resendVerification)
        api.post("auth/login/second-factor", use: secondFactor)
        api.post("auth/password-reset", use: requestReset)
        api.post("auth/password-reset/confirm", use: confirmReset)
        api.post("auth/verify-email", use: verifyEmail)
    }

    /// Only a session log-in may change the account's credentials, not an API token.
    func sessionAccount(_ context: PortalRequestContext) throws -> Account {
        let account = try context.requireAccount()
        guard !context.authenticatedByToken else { throw HTTPError(.forbidden, message: "log in with a session to change your account") }
        return account
    }

    @Sendable func updateProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try sessionAccount(context)
        let input = try await request.decode(as: ProfileRequest.self, context: context)
        let update = try await accounts.updateProfile(
            accountID: account.id, name: input.name, email: input.email,
            profile: AccountProfile(company: input.company ?? account.profile.company, phone: input.phone ?? account.profile.phone, address: input.address ?? account.profile.address)
        )
        return try context.responseEncoder.encode(AccountJSON.Profile(update.account, pendingEmail: update.verificationSentTo), from: request, context: context)
    }

    @Sendable func changePassword(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let account = try sessionAccount(context)
        let input = try await request.decode(as: PasswordRequest.self, context: context)
        try await accounts.changePassword(
            accountID: account.id, current: input.currentPassword, new: input.newPassword, keepingSessionHash: sessions.currentSessionHash(request: request)
        )
        return .noContent
    }

    @Sendable func listSessions(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try sessionAccount(context)
        let list = try await accounts.sessions(accountID: account.id, currentSessionHash: sessions.currentSessionHash(request: request))
        return try context.responseEncoder.encode(AccountJSON.SessionList(sessions: list.map {
            .init(id: $0.id.uuidString.lowercased(), createdAt: $0.createdAt, lastActiveAt: $0.lastWriteAt, expiresAt: $0.expiresAt, current: $0.isCurrent)
        }), from: request, context: context)
    }

    @Sendable func endSession(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let account = try sessionAccount(context)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
            try await accounts.endSession(accountID: account.id, sessionID: id)
        else { throw HTTPError(.notFound, message: "no such session") }
        return .noContent
    }

    @Sendable func startTOTP(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try sessionAccount(context)
        let enrolment = try await accounts.startTOTPEnrolment(accountID: account.id)
        return try context.responseEncoder.encode(AccountJSON.Enrolment(secret: enrolment.secret, otpauthUri: enrolment.otpauthURI), status: .created, from: request, context: context)
    }

    @Sendable func confirmTOTP(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try sessionAccount(context)
        let input = try await request.decode(as: CodeRequest.self, context: context)
        return try context.responseEncoder.encode(AccountJSON.RecoveryCodes(recoveryCodes: try await accounts.confirmTOTP(accountID: account.id, code: input.code)), from: request, context: context)
    }

    @Sendable func disableTOTP(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let account = try sessionAccount(context)
        let input = try await request.decode(as: CodeRequest.self, context: context)
        try await accounts.disableTOTP(accountID: account.id, code: input.code)
        return .noContent
    }

    @Sendable func resendVerification(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let account = try sessionAccount(context)
        try await accounts.resendVerification(accountID: account.id)
        return .accepted
    }

    @Sendable func secondFactor(_ request: Request, context: PortalRequestContext) async throws -> AccountResponse {
        let pending = try context.requirePendingSecondFactor(window: settings.secondFactorWindow, now: clock.now())
        let input = try await request.decode(as: CodeRequest.self, context: context)
        try await accounts.completeLogIn(accountID: pending.accountID, code: input.code)
        guard let account = try await accounts.requestAccount(id: pending.accountID) else { throw AccountError.invalidCredentials }
        try await sessions.logIn(account, request: request, context: context)
        return AccountResponse(account)
    }

    /// 202 with an empty object whatever the address: the answer never says whether it has an account.
    @Sendable func requestReset(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: ResetRequest.self, context: context)
        try await accounts.requestPasswordReset(email: input.email, clientIP: context.clientIP)
        return try context.responseEncoder.encode([String: String](), status: .accepted, from: request, context: context)
    }

    @Sendable func confirmReset(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: ResetConfirmRequest.self, context: context)
        try await accounts.confirmPasswordReset(token: input.token, newPassword: input.password)
        return .noContent
    }

    @Sendable func verifyEmail(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let input = try await request.decode(as: TokenRequest.self, context: context)
        try await accounts.verifyEmail(token: input.token)
        return .noContent
    }
}
