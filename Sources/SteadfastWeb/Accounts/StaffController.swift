import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// Staff and roles (docs/accounts.md, "Staff permissions"), all behind `staff.manage`:
/// `GET/POST /api/v1/admin/roles`, `GET/POST /api/v1/admin/staff`, `PUT /api/v1/admin/staff/{id}`,
/// and the page `/admin/staff` (list, invite, roles, disable). `AccountService` checks the
/// policy again and refuses granting more than the caller holds.
struct StaffController: Sendable {
    let accounts: AccountService
    let pages: PageRenderer

    struct RoleInput: Decodable {
        let name: String
        let permissions: [String]
    }

    struct InviteInput: Decodable {
        let email: String
        let name: String
        let roles: [String]
    }

    struct UpdateInput: Decodable {
        let disabled: Bool?
        let roles: [String]?
    }

    struct RoleView: Encodable {
        let id: String
        let name: String
        let permissions: [String]
        let builtIn: Bool

        init(_ role: StaffRole) {
            id = role.id.text
            name = role.name
            permissions = role.permissions.sorted().map(\.rawValue)
            builtIn = role.builtIn
        }
    }

    struct MemberView: Encodable {
        let id: String
        let name: String
        let email: String
        let disabled: Bool
        let roles: [String]

        init(_ member: StaffRepository.Member) {
            id = member.id.text
            name = member.name
            email = member.email
            disabled = member.disabledAt != nil
            roles = member.roleIDs.map(\.text)
        }
    }

    func addRoutes(api: RouterGroup<PortalRequestContext>, html: RouterGroup<PortalRequestContext>) {
        let admin = api.group("admin").add(middleware: RequirePermission(.staffManage))
        admin.get("roles", use: rolesJSON)
        admin.post("roles", use: createRoleJSON)
        admin.get("staff", use: staffJSON)
        admin.post("staff", use: inviteJSON)
        admin.put("staff/{id}", use: updateJSON)

        let pagesGroup = html.group("admin").add(middleware: RequirePermission(.staffManage))
        pagesGroup.get("staff", use: staffPage)
        pagesGroup.post("staff/invite", rerendering: staffPage, use: inviteForm)
        pagesGroup.post("staff/{id}", use: updateForm)
        pagesGroup.post("roles", rerendering: staffPage, use: createRoleForm)
    }

    // MARK: JSON

    @Sendable func rolesJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(["items": try await accounts.staffRoles().map(RoleView.init)], from: request, context: context)
    }

    @Sendable func createRoleJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: RoleInput.self, context: context)
        let role = try await accounts.createStaffRole(by: try context.requireAccount(), name: input.name, permissions: input.permissions)
        return try context.responseEncoder.encode(RoleView(role), status: .created, from: request, context: context)
    }

    @Sendable func staffJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: MemberView.init) {
            try await accounts.staffMembers(sort: try ListSorting.parse(request, columns: StaffRepository.sortColumns), limit: $0, offset: $1)
        }
    }

    @Sendable func inviteJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: InviteInput.self, context: context)
        let member = try await accounts.inviteStaff(by: try context.requireAccount(), email: input.email, name: input.name, roles: input.roles)
        return try context.responseEncoder.encode(MemberView(member), status: .created, from: request, context: context)
    }

    @Sendable func updateJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "staff member")
        let input = try await request.decode(as: UpdateInput.self, context: context)
        let member = try await accounts.updateStaff(by: try context.requireAccount(), id: id, disabled: input.disabled, roles: input.roles)
        return try context.responseEncoder.encode(MemberView(member), from: request, context: context)
    }

    // MARK: Pages

    /// The staff list's `status` filter.
    enum StatusFilter: String, CaseIterable {
        case active, disabled
    }

    @Sendable func staffPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let status = try ListChoice<StatusFilter>(request, "status")
        let table = try SortableTable(request, columns: StaffRepository.sortColumns, path: "/admin/staff", filters: ["status": status.text])
        let roles = try await accounts.staffRoles()
        let list = try await table.fetch { try await accounts.staffMembers(disabled: status.selected.map { $0 == .disabled }, sort: $0, limit: $1, offset: $2) }
        let me = try context.requireAccount()
        func roleChoices(_ held: [UUID]) -> [[String: Any]] {
            roles.map { ["id": $0.id.text, "name": $0.name, "checked": held.contains($0.id)] }
        }
        let rows = list.rows.map { member -> [String: Any] in
            [
                "id": member.id.text, "name": member.name, "email": member.email, "disabled": member.disabledAt != nil,
                "badge": Badge.values(member.disabledAt == nil ? "active" : "disabled"),
                "isMe": member.id == me.id, "roles": roleChoices(member.roleIDs),
                "roleNames": roles.filter { member.roleIDs.contains($0.id) }.map(\.name).joined(separator: ", "),
            ]
        }
        var values = table.values("members", list, rows: rows, empty: EmptyState.values(
            status.selected == nil ? "No staff yet." : "No \(status.text) staff."
        ), headings: [
            table.column("Name", key: "name"), table.column("E-mail", key: "email"), table.column("Roles"),
            table.column("Status", key: "status"), table.column("Actions"),
        ])
        values["statuses"] = status.options()
        values["roles"] = roles.map { role -> [String: Any] in
            ["id": role.id.text, "name": role.name, "builtIn": role.builtIn, "permissions": role.permissions.sorted().map(\.rawValue).joined(separator: ", ")]
        }
        values["inviteFields"] = Self.inviteFields(roles: roles, context: context)
        values["roleFields"] = Self.roleFields(context: context)
        return pages.page("accounts/staff", title: "Staff", values: values, context: context)
    }

    /// The invitation form (`_form` `invite`): name, address, a box per role (`role_<id>`) and
    /// `roles`, the group, for an error about the roles as a whole.
    static func inviteFields(roles: [StaffRole], context: PortalRequestContext) -> [String: Any] {
        [
            "name": FormField.make("name", label: "Name", required: true, form: "invite", context: context),
            "email": FormField.make("email", label: "E-mail", kind: .text(type: "email"), required: true, form: "invite", context: context),
            "roles": FormField.make("roles", label: "Roles", form: "invite", context: context),
            "choices": roles.map { FormField.make("role_" + $0.id.text, label: $0.name, kind: .checkbox, form: "invite", context: context) },
        ]
    }

    /// The new-role form (`_form` `role`): its name, and a box per permission (`perm_<name>`);
    /// `permissions` is the group, for an error about the permissions as a whole. After a
    /// refused post the boxes stay as they were ticked (``FormReplay``).
    static func roleFields(context: PortalRequestContext) -> [String: Any] {
        [
            "name": FormField.make("name", label: "New role", required: true, form: "role", context: context),
            "permissions": FormField.make("permissions", label: "Permissions", form: "role", context: context),
            "choices": StaffPermission.allCases.map { FormField.make("perm_" + $0.rawValue, label: $0.rawValue, kind: .checkbox, form: "role", context: context) },
        ]
    }

    @Sendable func inviteForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let member = try await accounts.inviteStaff(by: try context.requireAccount(), email: form["email"] ?? "", name: form["name"] ?? "", roles: Self.checked(form, prefix: "role_"))
        context.flash(.success, "Invitation sent to \(member.email).")
        return redirect(to: "/admin/staff")
    }

    /// `action`: `disable`, `enable` or `roles` (the `role_<id>` boxes ticked).
    @Sendable func updateForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "staff member")
        let form = try await FormFields.read(request, context: context)
        let staff = try context.requireAccount()
        switch form["action"] {
        case "disable": _ = try await accounts.updateStaff(by: staff, id: id, disabled: true, roles: nil)
        case "enable": _ = try await accounts.updateStaff(by: staff, id: id, disabled: false, roles: nil)
        case "roles": _ = try await accounts.updateStaff(by: staff, id: id, disabled: nil, roles: Self.checked(form, prefix: "role_"))
        default: throw BillingError.invalid("action must be disable, enable or roles", field: "action")
        }
        return redirect(to: "/admin/staff")
    }

    @Sendable func createRoleForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let role = try await accounts.createStaffRole(by: try context.requireAccount(), name: form["name"] ?? "", permissions: Self.checked(form, prefix: "perm_"))
        context.flash(.success, "Role “\(role.name)” created.")
        return redirect(to: "/admin/staff")
    }

    /// The names after `prefix` of the ticked boxes (`role_<id>`, `perm_<name>`), sorted.
    static func checked(_ form: FormFields, prefix: String) -> [String] {
        form.values.keys.filter { $0.hasPrefix(prefix) && form.flag($0) }.map { String($0.dropFirst(prefix.count)) }.sorted()
    }
}
