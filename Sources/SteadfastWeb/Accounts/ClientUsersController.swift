import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// A client's users (docs/accounts.md, "Client users"): the owner's `GET/POST /api/v1/me/users`,
/// `PUT/DELETE /api/v1/me/users/{id}` and the page `/account/users`; accepting an invitation
/// (`POST /api/v1/auth/invitations/accept`, the page `/invitations/{token}`); the client's
/// company details (`GET/PUT /api/v1/me/client`, the page `/account/company`, permission
/// `profile`). `AccountService` asks ``ClientAccessPolicy`` in every one of them.
struct ClientUsersController: Sendable {
    let accounts: AccountService
    let pages: PageRenderer

    struct InviteInput: Decodable {
        let email: String
        let name: String
        let permissions: [String]
    }

    struct UpdateInput: Decodable {
        let permissions: [String]?
        let disabled: Bool?
    }

    struct AcceptInput: Decodable {
        let token: String
        let password: String
        let name: String?
    }

    struct CompanyInput: Decodable {
        let company: String?
        let phone: String?
        let address: String?
    }

    struct UserView: Encodable {
        let id: String
        let name: String
        let email: String
        let permissions: [String]
        let status: String
        let disabled: Bool
        let createdAt: Date

        init(_ user: ClientUserRepository.User) {
            id = user.id.text
            name = user.name
            email = user.email
            permissions = user.permissions.sorted().map(\.rawValue)
            status = Self.status(user)
            disabled = user.disabledAt != nil
            createdAt = user.createdAt
        }

        /// `invited` (not accepted yet), `active` or `disabled`.
        static func status(_ user: ClientUserRepository.User) -> String {
            user.disabledAt != nil ? "disabled" : user.acceptedAt == nil ? "invited" : "active"
        }
    }

    struct CompanyView: Encodable {
        let id: String
        let name: String
        let company: String
        let phone: String
        let address: String

        init(_ client: Account) {
            id = client.id.text
            name = client.name
            company = client.profile.company
            phone = client.profile.phone
            address = client.profile.address
        }
    }

    func addRoutes(api: RouterGroup<PortalRequestContext>, html: RouterGroup<PortalRequestContext>) {
        let apiUsers = api.group("me/users").add(middleware: RequireClientPermission.ownerOnly)
        apiUsers.get(use: listJSON)
        apiUsers.post(use: inviteJSON)
        apiUsers.put("{id}", use: updateJSON)
        apiUsers.delete("{id}", use: removeJSON)
        api.post("auth/invitations/accept", use: acceptJSON)
        let apiCompany = api.group("me/client").add(middleware: RequireClientPermission(.profile))
        apiCompany.get(use: companyJSON)
        apiCompany.put(use: updateCompanyJSON)

        let users = html.group("account/users").add(middleware: RequireClientPermission.ownerOnly)
        users.get(use: usersPage)
        // Refused forms come back filled in on their page (``FormReplay``).
        users.post("invite", rerendering: usersPage, use: inviteForm)
        users.post("{id}", use: updateForm)
        users.post("{id}/remove", use: removeForm)
        html.get("invitations/{token}", use: invitationPage)
        html.post("invitations/{token}", use: acceptForm)
        let company = html.group("account/company").add(middleware: RequireClientPermission(.profile))
        company.get(use: companyPage)
        company.post(rerendering: companyPage, use: saveCompanyForm)
    }

    // MARK: JSON

    @Sendable func listJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let owner = try context.requireAccount()
        return try await context.pagedJSON(request, item: UserView.init) { try await accounts.clientUsers(by: owner, limit: $0, offset: $1) }
    }

    @Sendable func inviteJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let input = try await request.decode(as: InviteInput.self, context: context)
        let user = try await accounts.inviteClientUser(by: account, email: input.email, name: input.name, permissions: input.permissions)
        return try context.responseEncoder.encode(UserView(user), status: .created, from: request, context: context)
    }

    @Sendable func updateJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.id(what: "user")
        let input = try await request.decode(as: UpdateInput.self, context: context)
        return try context.responseEncoder.encode(UserView(try await accounts.updateClientUser(by: account, id: id, permissions: input.permissions, disabled: input.disabled)), from: request, context: context)
    }

    @Sendable func removeJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await accounts.removeClientUser(by: try context.requireAccount(), id: try context.id(what: "user"))
        return Response(status: .noContent)
    }

    /// `{token, password, name?}` → 200 the account (not logged in: log in next).
    @Sendable func acceptJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: AcceptInput.self, context: context)
        let account = try await accounts.acceptClientInvitation(token: input.token, password: input.password, name: input.name)
        return try AccountResponse(account).response(from: request, context: context)
    }

    @Sendable func companyJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(CompanyView(try await accounts.clientCompany(for: try context.requireAccount())), from: request, context: context)
    }

    @Sendable func updateCompanyJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let input = try await request.decode(as: CompanyInput.self, context: context)
        let current = try await accounts.clientCompany(for: account)
        let updated = try await accounts.updateClientCompany(by: account, profile: AccountProfile(
            company: input.company ?? current.profile.company, phone: input.phone ?? current.profile.phone, address: input.address ?? current.profile.address
        ))
        return try context.responseEncoder.encode(CompanyView(updated), from: request, context: context)
    }

    // MARK: Pages

    @Sendable func usersPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let page = try context.page(request)
        let users = ListPage(try await accounts.clientUsers(by: account, limit: page.fetchLimit, offset: page.offset), request: page)
        return pages.page("accounts/users", title: "Users", values: [
            "users": users.rows.map { user -> [String: Any] in
                [
                    "id": user.id.text, "name": user.name, "email": user.email, "disabled": user.disabledAt != nil,
                    "badge": Badge.values(UserView.status(user)),
                    "permissionNames": user.permissions.isEmpty ? "none" : user.permissions.sorted().map(\.rawValue).joined(separator: ", "),
                    "permissions": Self.choices(user.permissions),
                    "remove": ConfirmAction.values(
                        label: "Remove", action: "/account/users/\(user.id.text)/remove",
                        question: "Remove \(user.name)? They are logged out at once and can no longer log in.", confirmLabel: "Remove user"
                    ),
                ]
            },
            "inviteFields": Self.inviteFields(context: context),
            "pagination": users.pagination(path: "/account/users", query: [:]) as Any,
            "empty": users.rows.isEmpty ? EmptyState.values("No users yet: invite someone below.") as Any : false,
        ], context: context)
    }

    /// The invitation form (`_form` `invite`): name, address, a box per permission
    /// (`perm_<name>`) and `permissions`, the group, for an error about them as a whole.
    static func inviteFields(context: PortalRequestContext) -> [String: Any] {
        [
            "name": FormField.make("name", label: "Name", required: true, autocomplete: "off", form: "invite", context: context),
            "email": FormField.make("email", label: "E-mail", kind: .text(type: "email"), required: true, autocomplete: "off", form: "invite", context: context),
            "permissions": FormField.make("permissions", label: "Permissions", form: "invite", context: context),
            "choices": ClientPermission.allCases.map { FormField.make("perm_" + $0.rawValue, label: label($0), kind: .checkbox, form: "invite", context: context) },
        ]
    }

    static func choices(_ held: Set<ClientPermission>) -> [[String: Any]] {
        ClientPermission.allCases.map { ["name": $0.rawValue, "label": label($0), "checked": held.contains($0)] }
    }

    static func label(_ permission: ClientPermission) -> String {
        switch permission {
        case .billing: "Billing (invoices, payments, orders, billing details)"
        case .support: "Support (tickets)"
        case .services: "Services"
        case .profile: "Company details"
        }
    }

    static func checked(_ form: FormFields) -> [String] {
        form.values.keys.filter { $0.hasPrefix("perm_") && form.flag($0) }.map { String($0.dropFirst(5)) }.sorted()
    }

    @Sendable func inviteForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        let user = try await accounts.inviteClientUser(by: account, email: form["email"] ?? "", name: form["name"] ?? "", permissions: Self.checked(form))
        context.flash(.success, "Invitation sent to \(user.email).")
        return redirect(to: "/account/users")
    }

    /// `action`: `permissions` (the `perm_<name>` boxes ticked), `disable` or `enable`.
    @Sendable func updateForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let id = try context.id(what: "user")
        let form = try await FormFields.read(request, context: context)
        let user: ClientUserRepository.User
        switch form["action"] {
        case "permissions": user = try await accounts.updateClientUser(by: account, id: id, permissions: Self.checked(form), disabled: nil)
        case "disable": user = try await accounts.updateClientUser(by: account, id: id, permissions: nil, disabled: true)
        case "enable": user = try await accounts.updateClientUser(by: account, id: id, permissions: nil, disabled: false)
        default: throw BillingError.invalid("action must be permissions, disable or enable", field: "action")
        }
        context.flash(.success, "\(user.name) updated.")
        return redirect(to: "/account/users")
    }

    @Sendable func removeForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        try await accounts.removeClientUser(by: account, id: try context.id(what: "user"))
        context.flash(.success, "User removed.")
        return redirect(to: "/account/users")
    }

    @Sendable func invitationPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let invitation = try await accounts.clientInvitation(token: token) else {
            return pages.page("accounts/invitation", title: "Invitation", values: ["error": AccountError.invalidToken.message], status: .notFound, context: context)
        }
        return pages.page("accounts/invitation", title: "Accept the invitation", values: Self.invitationValues(invitation, token: token, context: context), context: context)
    }

    /// The invitation and its form (`_form` `invitation`): the name (the invited one until a
    /// refused post brings back what was typed) and the password, never sent back.
    static func invitationValues(_ invitation: AccountService.ClientInvitation, token: String, context: PortalRequestContext) -> [String: Any] {
        [
            "valid": true, "token": token, "email": invitation.email, "clientName": invitation.clientName,
            "permissions": invitation.permissions.isEmpty ? "none yet" : invitation.permissions.sorted().map(\.rawValue).joined(separator: ", "),
            "fields": [
                "name": FormField.make("name", label: "Your name", value: invitation.name, required: true, autocomplete: "name", form: "invitation", context: context),
                "password": FormField.make(
                    "password", label: "Password (at least 10 characters)", kind: .text(type: "password"), required: true, autocomplete: "new-password",
                    form: "invitation", context: context
                ),
            ],
        ]
    }

    /// A refused acceptance (a bad name, a weak password: 400) comes back with the name as typed;
    /// a link that is unknown, used or expired is a 404 without the form.
    @Sendable func acceptForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let form = try await FormFields.read(request, context: context)
        do {
            _ = try await accounts.acceptClientInvitation(token: token, password: form["password"] ?? "", name: form["name"])
            return redirect(to: "/login")
        } catch let error as AccountError {
            if error != .invalidToken, let invitation = try await accounts.clientInvitation(token: token) {
                let context = context.replaying("invitation", values: form.values, error: error)
                return pages.page("accounts/invitation", title: "Accept the invitation", values: Self.invitationValues(invitation, token: token, context: context), status: .badRequest, context: context)
            }
            return pages.page("accounts/invitation", title: "Accept the invitation", values: ["error": error.message], status: error == .invalidToken ? .notFound : .badRequest, context: context)
        }
    }

    @Sendable func companyPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let client = try await accounts.clientCompany(for: try context.requirePageAccount())
        let field = { (name: String, label: String, value: String, kind: FormField.Kind, autocomplete: String) in
            FormField.make(name, label: label, value: value, kind: kind, autocomplete: autocomplete, form: "company", context: context)
        }
        return pages.page("accounts/company", title: "Company details", values: [
            "clientName": client.name,
            "fields": [
                "company": field("company", "Company", client.profile.company, .text(type: "text"), "organization"),
                "phone": field("phone", "Phone", client.profile.phone, .text(type: "tel"), "tel"),
                "address": field("address", "Contact address", client.profile.address, .textarea(rows: 4), "street-address"),
            ],
        ], context: context)
    }

    @Sendable func saveCompanyForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        _ = try await accounts.updateClientCompany(by: account, profile: AccountProfile(company: form["company"] ?? "", phone: form["phone"] ?? "", address: form["address"] ?? ""))
        context.flash(.success, "Company details saved.")
        return redirect(to: "/account/company")
    }
}
