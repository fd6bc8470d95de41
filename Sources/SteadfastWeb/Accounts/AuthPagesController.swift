import Hummingbird
import SteadfastDomain
import SteadfastServices

/// The HTML log-in, registration and log-out pages.
struct AuthPagesController: Sendable {
    let accounts: AccountService
    let sessions: SessionIssuer
    let pages: PageRenderer

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        router.get("/") { _, context in
            redirect(to: context.account == nil ? "/login" : "/clientarea")
        }
        router.get("login") { _, context in
            context.account != nil ? redirect(to: home(context.account!)) : pages.page("accounts/login", title: "Log in", context: context)
        }
        router.post("login", use: login)
        router.get("register", use: registerPage)
        // A refused registration comes back filled in (never the password), ``FormReplay``.
        router.post("register", rerendering: registerPage, use: register)
        router.get("logout") { _, context in
            context.account == nil ? redirect(to: "/login") : pages.page("accounts/logout", title: "Log out", context: context)
        }
        router.post("logout") { [accounts] _, context in
            if let account = context.account { try await accounts.logOut(accountID: account.id) }
            sessions.logOut(context: context)
            return redirect(to: "/login")
        }
    }

    @Sendable func login(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        do {
            let account = try await accounts.authenticate(email: form.values["email"] ?? "", password: form.values["password"] ?? "", clientIP: context.clientIP)
            try await sessions.logIn(account, request: request, context: context, secondFactorPending: account.twoFactorEnabled)
            return redirect(to: account.twoFactorEnabled ? "/login/second-factor" : home(account))
        } catch let error as AccountError {
            return pages.page("accounts/login", title: "Log in", values: ["error": error.message, "email": form.values["email"] ?? ""], status: .unauthorized, context: context)
        }
    }

    /// The registration form (`_form` `register`).
    @Sendable func registerPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let field = { (name: String, label: String, type: String, hint: String?, autocomplete: String) in
            FormField.make(name, label: label, kind: .text(type: type), hint: hint, required: true, autocomplete: autocomplete, form: "register", context: context)
        }
        return pages.page("accounts/register", title: "Register", values: ["fields": [
            "name": field("name", "Name", "text", nil, "name"),
            "email": field("email", "E-mail", "email", nil, "email"),
            "password": field("password", "Password", "password", "At least 10 characters.", "new-password"),
        ]], context: context)
    }

    /// A refused registration is an ``AccountError`` (400, or 409 for an address in use),
    /// answered by the form again.
    @Sendable func register(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let account = try await accounts.register(email: form.values["email"] ?? "", password: form.values["password"] ?? "", name: form.values["name"] ?? "", clientIP: context.clientIP)
        try await sessions.logIn(account, request: request, context: context)
        return redirect(to: "/clientarea")
    }

    func home(_ account: Account) -> String {
        Navigation.home(account)
    }
}
