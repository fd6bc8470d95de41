import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence
import SteadfastServices

/// Staff pages `/admin/mail` and JSON `/api/v1/admin/mail/...` (docs/mail.md): the outbox with
/// its failed messages and a retry, and the templates with staff overrides. One
/// ``RequirePermission`` (`settings.manage`) on each group.
struct MailAdminController: Sendable {
    let mail: MailAdmin
    let pages: PageRenderer

    struct TemplateInput: Decodable {
        let subject: String
        let textBody: String
        let htmlBody: String
    }

    struct MessageView: Encodable {
        let id: String
        let template: String
        let to: String
        let subject: String
        let state: String
        let attempts: Int
        let messageId: String?
        let lastError: String?
        let createdAt: String
        let nextAttemptAt: String
        let sentAt: String?
        let failedAt: String?

        init(_ mail: MailOutboxRepository.Mail) {
            id = mail.id.uuidString.lowercased()
            template = mail.template
            to = mail.toAddress
            subject = mail.subject
            state = mail.state.rawValue
            attempts = mail.attempts
            messageId = mail.messageID
            lastError = mail.lastError
            createdAt = MailAdminController.date(mail.createdAt)
            nextAttemptAt = MailAdminController.date(mail.nextAttemptAt)
            sentAt = mail.sentAt.map(MailAdminController.date)
            failedAt = mail.failedAt.map(MailAdminController.date)
        }
    }

    struct TemplateView: Encodable {
        let key: String
        let variables: [String]
        let overridden: Bool
        let subject: String
        let textBody: String
        let htmlBody: String

        init(_ template: MailAdmin.Template) {
            key = template.key.rawValue
            variables = template.key.variables
            overridden = template.isOverridden
            subject = template.source.subject
            textBody = template.source.textBody
            htmlBody = template.source.htmlBody
        }
    }

    func addRoutes(api: RouterGroup<PortalRequestContext>, html: RouterGroup<PortalRequestContext>) {
        let admin = api.group("admin/mail").add(middleware: RequirePermission(.settingsManage))
        admin.get("outbox", use: outboxJSON)
        admin.post("outbox/{id}/retry", use: retryJSON)
        admin.get("templates", use: templatesJSON)
        admin.get("templates/{key}", use: templateJSON)
        admin.put("templates/{key}", use: saveJSON)
        admin.delete("templates/{key}", use: resetJSON)

        let staff = html.group("admin/mail").add(middleware: RequirePermission(.settingsManage))
        staff.get("", use: outboxPage)
        staff.post("retry", use: retryForm)
        staff.get("templates/{key}", use: templatePage)
        staff.post("templates", use: saveForm)
        staff.post("templates/reset", use: resetForm)
    }

    // MARK: JSON

    /// `GET /api/v1/admin/mail/outbox?state=pending|sending|sent|failed&limit=&offset=`, newest first.
    @Sendable func outboxJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let page = try context.page(request)
        let state = try ListChoice<MailOutboxRepository.Mail.State>(request, "state").selected
        let items = try await mail.outbox(state: state, sort: try ListSorting.parse(request, columns: MailOutboxRepository.sortColumns), limit: page.limit, offset: page.offset).map(MessageView.init)
        let counts = try await mail.counts()
        return try context.responseEncoder.encode(OutboxList(items: items, counts: Dictionary(uniqueKeysWithValues: MailOutboxRepository.Mail.State.allCases.map { ($0.rawValue, counts[$0] ?? 0) })), from: request, context: context)
    }

    struct OutboxList: Encodable {
        let items: [MessageView]
        let counts: [String: Int]
    }

    @Sendable func retryJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try context.id(what: "message")
        guard try await mail.retry(id: id) else { throw HTTPError(.conflict, message: "only a failed message can be retried") }
        return try context.responseEncoder.encode(["id": id.uuidString.lowercased(), "state": "pending"], from: request, context: context)
    }

    @Sendable func templatesJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(["items": try await mail.allTemplates().map(TemplateView.init)], from: request, context: context)
    }

    @Sendable func templateJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(TemplateView(try await mail.template(try Self.key(context))), from: request, context: context)
    }

    /// `PUT /api/v1/admin/mail/templates/{key}` `{subject, text_body, html_body}`: 400 naming the
    /// part that does not compile.
    @Sendable func saveJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let key = try Self.key(context)
        let input = try await request.decode(as: TemplateInput.self, context: context)
        let saved = try await Self.checked { try await mail.save(key, .init(subject: input.subject, textBody: input.textBody, htmlBody: input.htmlBody), by: staff.id) }
        return try context.responseEncoder.encode(TemplateView(saved), from: request, context: context)
    }

    @Sendable func resetJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await mail.reset(try Self.key(context))
        return Response(status: .noContent)
    }

    // MARK: Pages

    @Sendable func outboxPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let state = try ListChoice<MailOutboxRepository.Mail.State>(request, "state").selected
        let table = try SortableTable(request, columns: MailOutboxRepository.sortColumns, path: "/admin/mail", filters: ["state": state?.rawValue ?? ""])
        let list = try await table.fetch { try await mail.outbox(state: state, sort: $0, limit: $1, offset: $2) }
        let counts = try await mail.counts()
        let rows: [[String: Any]] = list.rows.map { message in
            var row: [String: Any] = [
                "id": message.id.uuidString.lowercased(), "template": message.template, "to": message.toAddress, "subject": message.subject,
                "badge": Badge.values(message.state.rawValue), "attempts": message.attempts, "created": Self.date(message.createdAt),
                "messageID": message.messageID ?? "", "attachment": message.attachment.map { _ in "with the invoice PDF" } ?? "",
            ]
            if let error = message.lastError { row["error"] = error }
            if message.state == .failed { row["failed"] = true }
            return row
        }
        let templates: [[String: Any]] = try await mail.allTemplates().map { ["key": $0.key.rawValue, "overridden": $0.isOverridden] }
        var values = table.values("messages", list, rows: rows, empty: EmptyState.values(
            state.map { "No \($0.rawValue) messages." } ?? "No mail has been queued yet."
        ), headings: [
            table.column("Created", key: "created"), table.column("To", key: "to"), table.column("Subject", key: "subject"),
            table.column("State", key: "state"), table.column("Attempts", key: "attempts", numeric: true),
        ])
        values["state"] = state?.rawValue ?? ""
        values["states"] = MailOutboxRepository.Mail.State.allCases.map { ["value": $0.rawValue, "count": counts[$0] ?? 0, "selected": $0 == state] as [String: Any] }
        values["failedCount"] = counts[.failed] ?? 0
        values["hasFailed"] = (counts[.failed] ?? 0) > 0
        values["templates"] = templates
        return pages.page("mail/outbox", title: "Mail", values: values, context: context)
    }

    @Sendable func retryForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        guard let text = form["id"], let id = UUID(uuidString: text) else { throw InvalidParameter(name: "id", message: "id must be a message id") }
        guard try await mail.retry(id: id) else { throw HTTPError(.conflict, message: "only a failed message can be retried") }
        return redirect(to: "/admin/mail?state=failed")
    }

    @Sendable func templatePage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let template = try await mail.template(try Self.key(context))
        return templateForm(template.key, source: template.source, overridden: template.isOverridden, status: .ok, context: context)
    }

    /// The template form (`_form` `template`); after a refused save it shows what was typed with
    /// the message beside the part that does not compile.
    func templateForm(_ key: MailTemplateKey, source: MailTemplateSource, overridden: Bool, status: HTTPResponse.Status, context: PortalRequestContext) -> Response {
        let field = { (name: String, label: String, value: String, kind: FormField.Kind, required: Bool) in
            FormField.make(name, label: label, value: value, kind: kind, required: required, form: "template", context: context)
        }
        var values: [String: Any] = [
            "key": key.rawValue, "variables": key.variables, "overridden": overridden,
            "fields": [
                "subject": field("subject", "Subject", source.subject, .text(type: "text"), true),
                "textBody": field("text_body", "Plain text", source.textBody, .textarea(rows: 10), false),
                "htmlBody": field("html_body", "HTML (inside the common layout)", source.htmlBody, .textarea(rows: 10), false),
            ],
        ]
        if let preview = try? mail.preview(source, key: key) {
            values["previewSubject"] = preview.subject
            values["previewText"] = preview.textBody
        }
        return pages.page("mail/template", title: "Mail template \(key.rawValue)", values: values, status: status, context: context)
    }

    @Sendable func saveForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let form = try await FormFields.read(request, context: context)
        let key = try Self.key(form["key"])
        let source = MailTemplateSource(subject: form.values["subject"] ?? "", textBody: form.values["text_body"] ?? "", htmlBody: form.values["html_body"] ?? "")
        do {
            _ = try await mail.save(key, source, by: staff.id)
        } catch let error as MailTemplateError {
            // A template that does not compile: 400, the form as typed, the message on its part.
            var context = context
            context.formReplay = FormReplay(form: "template", values: form.values, errors: [.init(field: error.field, message: error.message)])
            return templateForm(key, source: source, overridden: true, status: .badRequest, context: context)
        }
        return redirect(to: "/admin/mail/templates/\(key.rawValue)")
    }

    @Sendable func resetForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let key = try Self.key(form["key"])
        try await mail.reset(key)
        return redirect(to: "/admin/mail/templates/\(key.rawValue)")
    }

    // MARK: Helpers

    static func key(_ context: PortalRequestContext) throws -> MailTemplateKey {
        guard let key = context.parameters.get("key").flatMap(MailTemplateKey.init(rawValue:)) else { throw HTTPError(.notFound, message: "no such mail template") }
        return key
    }

    static func key(_ text: String?) throws -> MailTemplateKey {
        guard let key = text.flatMap(MailTemplateKey.init(rawValue:)) else {
            throw InvalidParameter(name: "key", message: "key must be one of \(MailTemplateKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return key
    }

    /// Runs `body`, turning a template that does not compile into a 400 naming the part.
    static func checked<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as MailTemplateError {
            throw InvalidParameter(name: error.field, message: error.description)
        }
    }

    static func date(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
    }
}
