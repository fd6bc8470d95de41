import SteadfastPersistence

extension OpenAPIDocument {
    /// Staff roles and members (docs/accounts.md, "Staff permissions"); all need `staff.manage`.
    static var staffOperations: [Operation] {
        let roles = ["type": "array", "items": string, "description": "role ids or names"] as [String: Any]
        return [
            Operation(method: "get", path: "/admin/roles", summary: "Roles with their permissions (staff.manage); the built-in Full access role holds every permission", access: .staff, tag: "staff"),
            Operation(method: "post", path: "/admin/roles", summary: "Create a role (staff.manage; only permissions the caller holds; 409 if the name is taken)", access: .staff, body: object(["name": string, "permissions": ["type": "array", "items": string, "description": "clients.read, clients.write, billing.manage, billing.refund, catalogue.manage, support.reply, jobs.run, staff.manage, settings.manage, api.tokens"]], required: ["name", "permissions"]), tag: "staff"),
            Operation(method: "get", path: "/admin/staff", summary: "Staff accounts with their role ids and whether they are disabled (sort, dir, limit, offset)", access: .staff, sort: StaffRepository.sortColumns, tag: "staff"),
            Operation(method: "post", path: "/admin/staff", summary: "Invite a member of staff: the account is created with the roles and a set-password link is mailed (accounts.staff_invite_ttl)", access: .staff, body: object(["email": string, "name": string, "roles": roles], required: ["email", "name", "roles"]), tag: "staff"),
            Operation(method: "put", path: "/admin/staff/{id}", summary: "Disable or enable a member of staff (their sessions and tokens stop at once on every node) and/or replace their roles; not oneself", access: .staff, body: object(["disabled": bool, "roles": roles]), tag: "staff"),
        ]
    }
}
