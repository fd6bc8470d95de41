import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The support desk's HTML pages, for clients under `/clientarea/tickets` and for staff under
/// `/admin/tickets` and `/admin/support/departments` (``RequirePermission`` on the staff
/// groups: `support.reply`, the departments `settings.manage`). Forms with files post
/// `multipart/form-data` to fixed paths (the ticket id in a field) so their body limits are
/// exact; a storage outage re-renders the form with the text kept and answers 503.
struct SupportPagesController: Sendable {
    let tickets: TicketService
    let pages: PageRenderer

    func addRoutes(to html: RouterGroup<PortalRequestContext>) {
        let client = html.group("clientarea/tickets").add(middleware: RequireClientPermission(.support))
        client.get(use: clientList)
        client.get("new", use: newForm)
        client.post("new", use: openTicket)
        client.post("reply", use: reply)
        client.post("close", use: close)
        client.get("{id}", use: show)
        client.get("{id}/attachments/{attachment_id}", use: download)

        let staff = html.group("admin").add(middleware: RequirePermission(.supportReply))
        staff.get("tickets", use: queue)
        staff.post("tickets/reply", use: reply)
        staff.post("tickets/update", use: update)
        staff.get("tickets/{id}", use: show)
        staff.get("tickets/{id}/attachments/{attachment_id}", use: download)
        // A refused form is shown again on its page with what was entered (``FormReplay``).
        staff.post("support/canned-replies", rerendering: queue, use: createCannedReply)
        // Departments are settings: their page is for `settings.manage`, who may not read the queue.
        let settings = html.group("admin").add(middleware: RequirePermission(.settingsManage))
        settings.get("support/departments", use: departmentsPage)
        settings.post("support/departments", rerendering: departmentsPage, use: createDepartment)
    }

    // MARK: Clients

    @Sendable func clientList(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let page = try context.page(request)
        let list = ListPage(try await tickets.tickets(for: account, sort: ListSort("updated", .desc), limit: page.fetchLimit, offset: page.offset), request: page)
        let rows: [[String: Any]] = list.rows.map {
            ["id": $0.id.text, "number": $0.number.description, "subject": $0.subject, "updated": Self.date($0.updatedAt),
             "badge": Badge.values(ticket: $0.status.rawValue, label: $0.status.label)]
        }
        let values = list.values("tickets", rows, path: "/clientarea/tickets", empty: EmptyState.values(
            "You have no tickets yet.", action: (href: "/clientarea/tickets/new", label: "Open a ticket")
        ))
        return pages.page("support/tickets", title: "Support", values: values, context: context)
    }

    @Sendable func newForm(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await newFormPage(account: try context.requirePageAccount(), status: .ok, context: context)
    }

    /// The new-ticket form (`_form` `ticket`); after a refused post (``refused(_:form:error:context:)``)
    /// it shows what was typed, the message beside its field and the summary.
    func newFormPage(account: Account, status: HTTPResponse.Status, context: PortalRequestContext) async throws -> Response {
        let departments = try await tickets.departments(for: account)
        let policy = tickets.policy
        let field = { (name: String, label: String, kind: FormField.Kind, hint: String?, required: Bool) in
            FormField.make(name, label: label, value: name == "priority" ? TicketPriority.medium.rawValue : "", kind: kind, hint: hint, required: required, form: "ticket", context: context)
        }
        return pages.page("support/new", title: "New ticket", values: [
            "hasDepartments": !departments.isEmpty,
            "fields": [
                "department": field("department_id", "Department", .select(departments.map { ($0.id.text, $0.name) }), nil, true),
                "subject": field("subject", "Subject", .text(type: "text"), nil, true),
                "priority": field("priority", "Priority", .select(TicketPriority.allCases.map { ($0.rawValue, $0.rawValue) }), nil, false),
                "message": field("message", "Message", .textarea(rows: 8), nil, true),
                "files": field("files", "Attachments", .file(multiple: true), Self.attachmentHint(policy), false),
            ],
        ], status: status, context: context)
    }

    static func attachmentHint(_ policy: AttachmentPolicy) -> String {
        "At most \(policy.maxFilesPerMessage) files, \(policy.maxFileSize) bytes each; \(policy.allowedExtensions.sorted().joined(separator: ", "))."
    }

    /// `context` with a refused multipart form's replay (a ticket, a reply, a download): the text
    /// fields as typed (files cannot come back) and the error on its field; an error about the
    /// files is shown on the file picker, `picker`.
    static func refused(_ error: SupportError, form: String, fields: [String: String], picker: String = "files", context: PortalRequestContext) -> PortalRequestContext {
        let onFiles = ["attachments", "file", "filename", "content_type", "content_length", "size"].contains(error.field ?? "")
        return context.replaying(form, values: fields, error: error, field: onFiles ? picker : nil)
    }

    /// What a multipart form may be refused for and still come back filled in: bad input, a file
    /// too large or of a refused type, a storage outage.
    static let refusals: [SupportErrorKind] = [.invalid, .tooLarge, .unsupportedType, .storageUnavailable]

    @Sendable func openTicket(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await MultipartForm.read(request, context: context)
        guard form.isComplete else { throw SupportError.invalid("the form arrived incomplete (the upload was cut off); nothing was stored, please send it again") }
        do {
            guard let department = form["department_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.invalid("choose a department", field: "department_id") }
            let attachments = try await upload(form.files, by: account)
            let ticket = try await tickets.open(
                by: account, departmentID: department, subject: form.fields["subject"] ?? "", message: form.fields["message"] ?? "",
                priority: try TicketPriority(parsing: form["priority"]), attachmentIDs: attachments
            )
            return redirect(to: "/clientarea/tickets/\(ticket.id.text)")
        } catch let error as SupportError where Self.refusals.contains(error.kind) {
            // The text is kept: the form comes back filled in, with the reason beside its field.
            let context = Self.refused(error, form: "ticket", fields: form.fields, context: context)
            return try await newFormPage(account: account, status: Problem(error).status, context: context)
        }
    }

    /// Checks the message's files together, then uploads each (attached by the caller).
    func upload(_ files: [MultipartForm.File], by account: Account) async throws -> [UUID] {
        try tickets.policy.check(messageFileSizes: files.map { Int64($0.bytes.count) })
        var ids: [UUID] = []
        for file in files {
            ids.append(try await tickets.upload(by: account, file: .init(filename: file.filename, bytes: file.bytes)).id)
        }
        return ids
    }

    @Sendable func show(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        return try await ticketPage(id: try SupportAPIController.ticketID(context), account: account, status: .ok, context: context)
    }

    /// A ticket with its reply form (`_form` `reply`), which after a refused reply shows the
    /// text as typed with the message beside its field.
    func ticketPage(id: UUID, account: Account, status: HTTPResponse.Status, context: PortalRequestContext) async throws -> Response {
        let detail = try await tickets.detail(id: id, for: account)
        let staff = StaffPolicy.allows(account, .supportReply)
        let base = staff ? "/admin/tickets" : "/clientarea/tickets"
        let messages: [[String: Any]] = detail.messages.map { message in
            [
                "author": message.authorName, "body": message.body, "created": Self.date(message.createdAt), "note": message.kind == .note,
                "kindLabel": message.kind == .note ? "internal note" : message.kind == .staff ? "staff" : "client",
                "hasAttachments": !message.attachments.isEmpty,
                "attachments": message.attachments.map { ["id": $0.id.text, "filename": $0.filename, "size": $0.size, "sha256": $0.sha256, "base": base, "ticketID": id.text] as [String: Any] },
            ]
        }
        var values: [String: Any] = [
            "id": id.text, "number": detail.ticket.number.description, "subject": detail.ticket.subject, "status": detail.ticket.status.label,
            "department": detail.department.name, "priority": detail.ticket.priority.rawValue, "messages": messages, "staff": staff, "base": base,
            "closed": detail.ticket.status == .closed, "clientName": detail.clientName,
        ]
        var fields: [String: Any] = [
            "message": FormField.make("message", label: "Message", kind: .textarea(rows: 6), form: "reply", context: context),
            "files": FormField.make("files", label: "Attachments", kind: .file(multiple: true), hint: Self.attachmentHint(tickets.policy), form: "reply", context: context),
        ]
        if staff {
            let canned = try await tickets.cannedReplies(for: account)
            fields["canned"] = FormField.make(
                "canned_reply_id", label: "Canned reply (used when the message is empty)", kind: .select([("", "—")] + canned.map { ($0.id.text, $0.title) }),
                form: "reply", context: context
            )
            fields["internal"] = FormField.make("internal", label: "Internal note (never shown to the client)", kind: .checkbox, form: "reply", context: context)
            values["hasCanned"] = !canned.isEmpty
            values["statuses"] = TicketStatus.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0 == detail.ticket.status] as [String: Any] }
            values["assignee"] = detail.ticket.assigneeID == account.id ? "you" : detail.ticket.assigneeID == nil ? "nobody" : "another staff member"
        }
        values["fields"] = fields
        return pages.page("support/ticket", title: detail.ticket.number.description, values: values, status: status, context: context)
    }

    /// Both sides' reply form: a client reply, or for staff a reply or internal note (a canned
    /// reply fills an empty message).
    @Sendable func reply(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await MultipartForm.read(request, context: context)
        guard form.isComplete else { throw SupportError.invalid("the form arrived incomplete (the upload was cut off); nothing was stored, please send it again") }
        guard let id = form["ticket_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.notFound("ticket") }
        var text = form.fields["message"] ?? ""
        if StaffPolicy.allows(account, .supportReply), text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, let canned = form["canned_reply_id"] {
            text = try await tickets.cannedReplies(for: account).first { $0.id.text == canned }?.body ?? ""
        }
        do {
            // Another client's ticket is a 404 before anything is uploaded.
            _ = try await tickets.detail(id: id, for: account)
            let attachments = try await upload(form.files, by: account)
            _ = try await tickets.reply(by: account, ticketID: id, message: text, internalNote: StaffPolicy.allows(account, .supportReply) && form["internal"] != nil, attachmentIDs: attachments)
            return redirect(to: (StaffPolicy.allows(account, .supportReply) ? "/admin/tickets/" : "/clientarea/tickets/") + id.text)
        } catch let error as SupportError where Self.refusals.contains(error.kind) {
            let context = Self.refused(error, form: "reply", fields: form.fields, context: context)
            return try await ticketPage(id: id, account: account, status: Problem(error).status, context: context)
        }
    }

    @Sendable func close(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        guard let id = form["ticket_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.notFound("ticket") }
        _ = try await tickets.close(by: account, ticketID: id)
        return redirect(to: "/clientarea/tickets/\(id.text)")
    }

    @Sendable func download(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await SupportAPIController.serve(tickets: tickets, account: try context.requirePageAccount(), request: request, context: context)
    }

    // MARK: Staff

    @Sendable func queue(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requirePageAccount()
        var filter = try SupportAdminAPIController.filter(request)
        let mine = request.uri.queryParameters.get("mine") == "1"
        if mine { filter.assigneeID = staff.id }
        let status = filter.statuses?.first
        let filters = ["status": status?.rawValue ?? "", "department_id": filter.departmentID?.text ?? "", "mine": mine ? "1" : ""]
        let table = try SortableTable(request, columns: TicketRepository.sortColumns, path: "/admin/tickets", filters: filters)
        let list = try await table.fetch { try await tickets.tickets(for: staff, filter: filter, sort: $0, limit: $1, offset: $2) }
        let departments = try await tickets.departments(for: staff)
        let names = Dictionary(uniqueKeysWithValues: departments.map { ($0.id, $0.name) })
        let rows: [[String: Any]] = list.rows.map {
            ["id": $0.id.text, "number": $0.number.description, "subject": $0.subject, "priority": $0.priority.rawValue,
             "waiting": Self.date($0.statusChangedAt), "department": names[$0.departmentID] ?? "",
             "badge": Badge.values(ticket: $0.status.rawValue, label: $0.status.label)]
        }
        let canned = try await tickets.cannedReplies(for: staff)
        var values = table.values("tickets", list, rows: rows, empty: EmptyState.values(
            filters.values.allSatisfy(\.isEmpty) ? "No tickets yet." : "No tickets match these filters."
        ), headings: [
            table.column("Number", key: "number"), table.column("Subject", key: "subject"), table.column("Department"),
            table.column("Status", key: "status"), table.column("Priority", key: "priority"), table.column("Waiting since", key: "waiting"),
        ])
        values["mine"] = mine
        values["statuses"] = TicketStatus.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0 == status] as [String: Any] }
        values["departments"] = departments.map { Self.departmentRow($0, selected: $0.id == filter.departmentID) }
        values["cannedReplies"] = canned.map { ["title": $0.title, "body": $0.body] }
        values["cannedFields"] = [
            "title": FormField.make("title", label: "Title", required: true, form: "canned-reply", context: context),
            "body": FormField.make("body", label: "Text", kind: .textarea(rows: 4), required: true, form: "canned-reply", context: context),
        ]
        // The desk's short configuration lists, complete on this page (docs/support.md, "Short lists");
        // departments are added on their own settings page.
        let manages = StaffPolicy.allows(staff, .settingsManage)
        values["queueLinks"] = true
        values["managesDepartments"] = manages
        if departments.isEmpty {
            values["departmentsEmpty"] = ["empty": EmptyState.values(
                "No departments yet. Clients cannot open a ticket until there is one.", action: manages ? (href: "/admin/support/departments", label: "Add a department") : nil
            )]
        }
        if canned.isEmpty { values["cannedEmpty"] = ["empty": EmptyState.values("No canned replies yet. Prepared answers added here are offered in every reply form.")] }
        return pages.page("support/queue", title: "Support queue", values: values, context: context)
    }

    /// The departments and the form that adds one (`settings.manage`), listed in full like on
    /// the queue (docs/support.md, "Short lists"); a refused form comes back here filled in.
    @Sendable func departmentsPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requirePageAccount()
        let departments = try await tickets.departments(for: staff)
        var values: [String: Any] = [
            "departments": departments.map { Self.departmentRow($0) },
            // Names link to their tickets only for staff who may read the queue.
            "queueLinks": StaffPolicy.allows(staff, .supportReply),
            "fields": [
                "name": FormField.make("name", label: "Name", required: true, form: "department", context: context),
                "email": FormField.make(
                    "email", label: "E-mail", kind: .text(type: "email"), hint: "Mail sent to this address opens a ticket in the department; no other department may use it.",
                    required: true, form: "department", context: context
                ),
                "public": FormField.make("public", label: "Clients may choose it (otherwise staff only)", value: "1", kind: .checkbox, form: "department", context: context),
            ],
        ]
        if departments.isEmpty { values["departmentsEmpty"] = ["empty": EmptyState.values("No departments yet. Clients cannot open a ticket until there is one: add one below.")] }
        return pages.page("support/departments", title: "Support departments", values: values, context: context)
    }

    /// A department as `support/departments-table` (on both pages) and the queue's filter show it.
    static func departmentRow(_ department: Department, selected: Bool = false) -> [String: Any] {
        ["id": department.id.text, "name": department.name, "email": department.email.value, "isPublic": department.isPublic, "selected": selected]
    }

    @Sendable func update(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        guard let id = form["ticket_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.notFound("ticket") }
        _ = try await tickets.update(
            by: staff, ticketID: id, status: try form["status"].map { try TicketStatus(parsing: $0) }, assigneeID: form.flag("assign_me") ? staff.id : nil
        )
        return redirect(to: "/admin/tickets/\(id.text)")
    }

    @Sendable func createDepartment(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let created = try await tickets.createDepartment(by: try context.requirePageAccount(), name: form["name"] ?? "", email: form["email"] ?? "", isPublic: form.flag("public"))
        context.flash(.success, "Department “\(created.name)” added.")
        return redirect(to: "/admin/support/departments")
    }

    @Sendable func createCannedReply(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        let created = try await tickets.createCannedReply(by: try context.requirePageAccount(), title: form["title"] ?? "", body: form.values["body"] ?? "")
        context.flash(.success, "Canned reply “\(created.title)” added.")
        return redirect(to: "/admin/tickets")
    }

    static func date(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime])
    }
}
