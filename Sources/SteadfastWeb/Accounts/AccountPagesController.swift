import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// The HTML side of docs/accounts.md: `/account` (profile, password, sessions), `/account/2fa`
/// (enrolment with a QR code rendered here as SVG), `/login/second-factor`, `/password-reset`,
/// `/verify-email/{token}`. Forms carry the CSRF token like every other form.
struct AccountPagesController: Sendable {
    let accounts: AccountService
    let sessions: SessionIssuer
    let settings: AccountSettings
    let pages: PageRenderer
    let clock: any WallClock

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        router.get("account", use: accountPage)
        router.post("account/profile", use: saveProfile)
        router.post("account/password", use: changePassword)
        router.post("account/sessions/{id}/end", use: endSession)
        router.post("account/verify-email/resend", use: resendVerification)
        router.get("account/2fa", use: twoFactorPage)
        router.post("account/2fa/start", use: startTwoFactor)
        router.post("account/2fa/confirm", use: confirmTwoFactor)
        router.post("account/2fa/disable", use: disableTwoFactor)
        router.get("login/second-factor") { _, context in
            _ = try context.requirePendingSecondFactor(window: settings.secondFactorWindow, now: clock.now())
            return pages.page("accounts/second-factor", title: "Two-factor log-in", context: context)
        }
        router.post("login/second-factor", use: secondFactor)
        router.get("password-reset") { _, context in pages.page("accounts/password-reset-request", title: "Forgot your password?", context: context) }
        router.post("password-reset", use: requestReset)
        router.get("password-reset/{token}", use: resetPage)
        router.post("password-reset/{token}", use: confirmReset)
        router.get("verify-email/{token}") { _, context in
            pages.page("accounts/verify-email", title: "Confirm your e-mail address", values: ["token": context.parameters.get("token") ?? ""], context: context)
        }
        router.post("verify-email/{token}", use: verifyEmail)
    }

    @Sendable func accountPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        return try await profilePage(account, request: request, context: context)
    }

    /// `/account`: the profile form (`_form` `profile`) and the password form (`password`),
    /// each showing its own refusal beside its fields (the passwords are never sent back).
    func profilePage(_ account: Account, request: Request, context: PortalRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await accounts.sessions(accountID: account.id, currentSessionHash: sessions.currentSessionHash(request: request))
        let field = { (form: String, name: String, label: String, value: String, kind: FormField.Kind, required: Bool, autocomplete: String) in
            FormField.make(name, label: label, value: value, kind: kind, required: required, autocomplete: autocomplete, form: form, context: context)
        }
        var values: [String: Any] = [
            "fields": [
                "name": field("profile", "name", "Name", account.name, .text(type: "text"), true, "name"),
                "email": field(
                    "profile", "email", "E-mail (a change takes effect once you follow the link we send to the new address)", account.email.value,
                    .text(type: "email"), true, "email"
                ),
                "company": field("profile", "company", "Company", account.profile.company, .text(type: "text"), false, "organization"),
                "phone": field("profile", "phone", "Phone", account.profile.phone, .text(type: "tel"), false, "tel"),
                "address": field("profile", "address", "Contact address", account.profile.address, .textarea(rows: 4), false, "street-address"),
                "currentPassword": field("password", "current_password", "Current password", "", .text(type: "password"), true, "current-password"),
                "newPassword": field(
                    "password", "new_password", "New password (at least 10 characters; your other sessions will be logged out)", "",
                    .text(type: "password"), true, "new-password"
                ),
            ],
            "emailVerified": account.emailVerifiedAt != nil, "twoFactorEnabled": account.twoFactorEnabled,
            "sessions": list.map { entry -> [String: Any] in
                ["id": entry.id.uuidString.lowercased(), "createdAt": Self.format(entry.createdAt), "lastActiveAt": Self.format(entry.lastWriteAt), "current": entry.isCurrent]
            },
            "securityEvents": try await accounts.securityEvents(accountID: account.id, limit: 20).map(AuditController.row),
        ]
        values.merge(extra) { _, new in new }
        return pages.page("accounts/profile", title: "Your account", values: values, status: status, context: context)
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeSeparator(.colon)) + " UTC"
    }

    /// A refused profile (400, an address in use too, as it always was) comes back as typed.
    @Sendable func saveProfile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        do {
            let update = try await accounts.updateProfile(
                accountID: account.id, name: form.values["name"] ?? "", email: form.values["email"],
                profile: AccountProfile(company: form.values["company"] ?? "", phone: form.values["phone"] ?? "", address: form.values["address"] ?? "")
            )
            let notice = update.verificationSentTo.map { "Saved. Follow the link we sent to \($0) to switch to that address." } ?? "Saved."
            return try await profilePage(update.account, request: request, context: context, values: ["notice": notice])
        } catch let error as AccountError {
            let context = context.replaying("profile", values: form.values, error: error)
            return try await profilePage(account, request: request, context: context, status: .badRequest)
        }
    }

    /// A refused change (a wrong current password, a weak new one: 400) names its field.
    @Sendable func changePassword(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        do {
            try await accounts.changePassword(
                accountID: account.id, current: form.values["current_password"] ?? "", new: form.values["new_password"] ?? "",
                keepingSessionHash: sessions.currentSessionHash(request: request)
            )
            return try await profilePage(account, request: request, context: context, values: ["notice": "Password changed; your other sessions were logged out."])
        } catch let error as AccountError {
            let context = context.replaying("password", values: [:], error: error, field: error.field == "password" ? "new_password" : nil)
            return try await profilePage(account, request: request, context: context, status: .badRequest)
        }
    }

    @Sendable func endSession(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), try await accounts.endSession(accountID: account.id, sessionID: id) else {
            throw HTTPError(.notFound, message: "There is no such session.")
        }
        return redirect(to: "/account")
    }

    @Sendable func resendVerification(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        try await accounts.resendVerification(accountID: account.id)
        return try await profilePage(account, request: request, context: context, values: ["notice": "A new confirmation link is on its way."])
    }

    // MARK: Two-factor

    @Sendable func twoFactorPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        return try await twoFactor(account, context: context)
    }

    func twoFactor(_ account: Account, context: PortalRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        var values: [String: Any] = ["required": settings.requireTwoFactorForStaff && account.role == .staff && !account.twoFactorEnabled]
        if account.twoFactorEnabled {
            if extra["recoveryCodes"] == nil {
                values["enabled"] = ["remaining": try await accounts.remainingRecoveryCodes(accountID: account.id)]
            }
        } else if let enrolment = try await accounts.pendingTOTPEnrolment(accountID: account.id) {
            values["enrolment"] = ["secret": enrolment.secret, "qr": try QRCodeSVG(text: enrolment.otpauthURI).values] as [String: Any]
        } else {
            values["canStart"] = true
        }
        values.merge(extra) { _, new in new }
        return pages.page("accounts/two-factor", title: "Two-factor log-in", values: values, status: status, context: context)
    }

    @Sendable func startTwoFactor(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        _ = try await accounts.startTOTPEnrolment(accountID: account.id)
        return redirect(to: "/account/2fa")
    }

    @Sendable func confirmTwoFactor(_ request: Request, context: PortalRequestContext) async throws -> Response {
        var account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        do {
            let codes = try await accounts.confirmTOTP(accountID: account.id, code: form.values["code"] ?? "")
            account.twoFactorEnabled = true
            return try await twoFactor(account, context: context, values: ["recoveryCodes": codes])
        } catch let error as AccountError {
            return try await twoFactor(account, context: context, values: ["error": error.message], status: .badRequest)
        }
    }

    @Sendable func disableTwoFactor(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        do {
            try await accounts.disableTOTP(accountID: account.id, code: form.values["code"] ?? "")
            return redirect(to: "/account/2fa")
        } catch let error as AccountError {
            return try await twoFactor(account, context: context, values: ["error": error.message], status: .badRequest)
        }
    }

    @Sendable func secondFactor(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let pending = try context.requirePendingSecondFactor(window: settings.secondFactorWindow, now: clock.now())
        let form = try await FormFields.read(request, context: context)
        do {
            try await accounts.completeLogIn(accountID: pending.accountID, code: form.values["code"] ?? "")
        } catch let error as AccountError {
            return pages.page("accounts/second-factor", title: "Two-factor log-in", values: ["error": error.message], status: .unauthorized, context: context)
        }
        guard let account = try await accounts.requestAccount(id: pending.accountID) else { throw RedirectToLogin() }
        try await sessions.logIn(account, request: request, context: context)
        return redirect(to: account.role == .staff ? "/admin" : "/clientarea")
    }

    // MARK: Password reset and e-mail verification

    @Sendable func requestReset(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        try await accounts.requestPasswordReset(email: form.values["email"] ?? "", clientIP: context.clientIP)
        // The same words whether or not the address has an account; a visitor's flash (in the
        // database session), so it shows on the log-in page whichever node serves it.
        context.flash(.info, "If that address has an account, a link to choose a new password is on its way. It works once and expires soon.")
        return redirect(to: "/login")
    }

    @Sendable func resetPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let valid = try await accounts.resetTokenIsValid(token)
        var values: [String: Any] = ["token": token, "valid": valid]
        if !valid { values["error"] = AccountError.invalidToken.message }
        return pages.page("accounts/password-reset", title: "Choose a new password", values: values, status: valid ? .ok : .notFound, context: context)
    }

    @Sendable func confirmReset(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let form = try await FormFields.read(request, context: context)
        do {
            try await accounts.confirmPasswordReset(token: token, newPassword: form.values["password"] ?? "")
            return redirect(to: "/login")
        } catch let error as AccountError {
            let valid = error != .invalidToken
            return pages.page("accounts/password-reset", title: "Choose a new password", values: ["token": token, "valid": valid, "error": error.message], status: .badRequest, context: context)
        }
    }

    @Sendable func verifyEmail(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        do {
            try await accounts.verifyEmail(token: token)
            return pages.page("accounts/verify-email", title: "E-mail address confirmed", values: ["done": true], context: context)
        } catch let error as AccountError {
            return pages.page("accounts/verify-email", title: "Confirm your e-mail address", values: ["token": token, "error": error.message], status: .badRequest, context: context)
        }
    }
}

/// A QR code as the values of the `accounts/qr` SVG template: one path of 1×1 squares.
struct QRCodeSVG {
    let values: [String: Any]

    init(text: String) throws {
        let code = try QRCode.encode(text)
        var path = ""
        for row in 0..<code.size {
            for column in 0..<code.size where code[row, column] { path += "M\(column) \(row)h1v1h-1z" }
        }
        values = ["viewBox": "-4 -4 \(code.size + 8) \(code.size + 8)", "outer": code.size + 8, "path": path]
    }
}
