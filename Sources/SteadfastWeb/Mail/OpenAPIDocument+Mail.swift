import SteadfastPersistence

extension OpenAPIDocument {
    /// The staff mail outbox and templates.
    static var mailOperations: [Operation] { [
        Operation(method: "get", path: "/admin/mail/outbox", summary: "The e-mail outbox, newest first, with counts per state (state=pending|sending|sent|failed, sort, dir, limit, offset)", access: .staff, sort: MailOutboxRepository.sortColumns, tag: "mail"),
        Operation(method: "post", path: "/admin/mail/outbox/{id}/retry", summary: "Queue a failed message again (same Message-ID); 409 unless it failed", access: .staff, tag: "mail"),
        Operation(method: "get", path: "/admin/mail/templates", summary: "Every mail template with its values, and whether staff changed it", access: .staff, tag: "mail"),
        Operation(method: "get", path: "/admin/mail/templates/{key}", summary: "One mail template (key: invoice_issued, payment_received, ...)", access: .staff, tag: "mail"),
        Operation(method: "put", path: "/admin/mail/templates/{key}", summary: "Override a template (Mustache; 400 names the part that does not compile)", access: .staff, body: object(["subject": string, "text_body": string, "html_body": string], required: ["subject", "text_body", "html_body"]), tag: "mail"),
        Operation(method: "delete", path: "/admin/mail/templates/{key}", summary: "Drop the override: the default template applies again", access: .staff, tag: "mail"),
    ] }
}
