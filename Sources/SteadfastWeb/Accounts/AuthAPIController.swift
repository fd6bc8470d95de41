import Hummingbird
import SteadfastDomain
import SteadfastServices

/// `/api/v1/auth/*` and `/api/v1/me`: accounts and sessions for API clients and scripts.
struct AuthAPIController: Sendable {
    let accounts: AccountService
    let sessions: SessionIssuer

    struct RegisterRequest: Decodable {
        let email: String
        let password: String
        let name: String
    }

    struct LoginRequest: Decodable {
        let email: String
        let password: String
    }

    func addRoutes(to group: RouterGroup<PortalRequestContext>) {
        group.post("auth/register", use: register)
        group.post("auth/login", use: login)
        group.post("auth/logout", use: logout)
        group.get("me", use: me)
    }

    @Sendable func register(_ request: Request, context: PortalRequestContext) async throws -> EditedResponse<AccountResponse> {
        let input = try await request.decode(as: RegisterRequest.self, context: context)
        let account = try await accounts.register(email: input.email, password: input.password, name: input.name, clientIP: context.clientIP)
        context.logger.info("account registered", metadata: ["steadfast.account.id": .string(account.id.uuidString.lowercased())])
        return EditedResponse(status: .created, response: AccountResponse(account))
    }

    /// With two-factor log-in on, the answer is `{"second_factor_required": true}` and the
    /// session only remembers the checked password (`POST auth/login/second-factor` completes it).
    @Sendable func login(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: LoginRequest.self, context: context)
        let account = try await accounts.authenticate(email: input.email, password: input.password, clientIP: context.clientIP)
        try await sessions.logIn(account, request: request, context: context, secondFactorPending: account.twoFactorEnabled)
        if account.twoFactorEnabled { return try context.responseEncoder.encode(AccountJSON.SecondFactorRequired(), from: request, context: context) }
        return try AccountResponse(account).response(from: request, context: context)
    }

    @Sendable func logout(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        if let account = context.account { try await accounts.logOut(accountID: account.id) }
        sessions.logOut(context: context)
        return .noContent
    }

    @Sendable func me(_ request: Request, context: PortalRequestContext) async throws -> AccountResponse {
        guard let account = context.account else {
            throw HTTPError(.unauthorized, message: "log in first")
        }
        return AccountResponse(account)
    }
}
