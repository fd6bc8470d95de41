import SteadfastPersistence

extension OpenAPIDocument {
    /// The audit trail's routes (docs/accounts.md, "Audit trail").
    static var auditOperations: [Operation] { [
        Operation(method: "get", path: "/admin/audit-events", summary: "The audit trail, newest first: actor (account or API token id, job or gateway name, job, gateway, system), object (type, type:id, or id); sort (time, action), dir; limit, offset", access: .staff, sort: AuditEventRepository.sortColumns, tag: "accounts"),
        Operation(method: "get", path: "/me/security-events", summary: "The caller's own security events (log-ins, password, e-mail and two-factor changes), newest first; limit, offset", access: .account, tag: "accounts"),
    ] }
}
