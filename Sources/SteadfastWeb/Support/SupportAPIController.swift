import Foundation
import HTTPTypes
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The clients' support API under `/api/v1` (staff may use the upload route too): departments,
/// upload-first attachments, tickets, replies, closing, attachment downloads. Authorisation is
/// the ``TicketService``'s: another client's ticket, message or attachment is a 404.
struct SupportAPIController: Sendable {
    let tickets: TicketService

    struct OpenInput: Decodable {
        let departmentId: UUID
        let subject: String
        let message: String
        let priority: String?
        let serviceId: UUID?
        let attachments: [UUID]?
    }

    struct ReplyInput: Decodable {
        let message: String
        let attachments: [UUID]?
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        let support = api.group().add(middleware: RequireClientPermission(.support))
        support.get("support/departments", use: departments)
        support.post("tickets/attachments", use: upload)
        support.post("tickets", use: open)
        support.get("tickets", use: list)
        support.get("tickets/{id}", use: show)
        support.post("tickets/{id}/replies", use: reply)
        support.post("tickets/{id}/close", use: close)
        support.get("tickets/{id}/attachments/{attachment_id}/content", use: content)
    }

    @Sendable func departments(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(["items": try await tickets.departments(for: account).map(SupportViews.DepartmentView.init)], from: request, context: context)
    }

    /// `POST /api/v1/tickets/attachments`: the raw bytes as the body, `Content-Length`,
    /// `X-Upload-Filename` (percent-encoded UTF-8) → 201 `{id, filename, size, sha256, content_type}`.
    @Sendable func upload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        guard let rawName = request.headers[FilesAPIController.filenameHeader] else {
            throw SupportError.invalid("send the file name in the X-Upload-Filename header", field: "filename")
        }
        guard let length = request.headers[.contentLength].flatMap(Int64.init), length >= 0 else {
            throw HTTPError(.lengthRequired, message: "uploads need a Content-Length header")
        }
        let attachment = try await tickets.upload(by: account, filename: rawName.removingPercentEncoding ?? rawName, declaredSize: length, body: request.body)
        return try context.responseEncoder.encode(SupportViews.AttachmentView(attachment), status: .created, from: request, context: context)
    }

    @Sendable func open(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let input = try await request.decode(as: OpenInput.self, context: context)
        let ticket = try await tickets.open(
            by: account, departmentID: input.departmentId, subject: input.subject, message: input.message, priority: try TicketPriority(parsing: input.priority),
            serviceID: input.serviceId, attachmentIDs: input.attachments ?? []
        )
        return try context.responseEncoder.encode(["id": ticket.id.text, "number": ticket.number.description, "status": ticket.status.rawValue], status: .created, from: request, context: context)
    }

    @Sendable func list(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await context.pagedJSON(request, item: SupportViews.TicketView.init) { try await tickets.tickets(for: account, limit: $0, offset: $1) }
    }

    @Sendable func show(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(SupportViews.DetailView(try await tickets.detail(id: try Self.ticketID(context), for: account)), from: request, context: context)
    }

    @Sendable func reply(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try Self.ticketID(context)
        let input = try await request.decode(as: ReplyInput.self, context: context)
        let message = try await tickets.reply(by: account, ticketID: id, message: input.message, attachmentIDs: input.attachments ?? [])
        return try context.responseEncoder.encode(SupportViews.MessageView(message), status: .created, from: request, context: context)
    }

    @Sendable func close(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try context.responseEncoder.encode(SupportViews.TicketView(try await tickets.close(by: account, ticketID: try Self.ticketID(context))), from: request, context: context)
    }

    /// Streams the file (`Range` supported, `Content-Disposition: attachment`), or with
    /// `?redirect=1` answers 303 to a five-minute link (a presigned S3 URL on S3 targets).
    @Sendable func content(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await Self.serve(tickets: tickets, account: account, request: request, context: context)
    }

    static func serve(tickets: TicketService, account: Account, request: Request, context: PortalRequestContext) async throws -> Response {
        guard let attachmentID = context.parameters.get("attachment_id").flatMap(UUID.init(uuidString:)) else { throw SupportError.notFound("attachment") }
        let (attachment, file) = try await tickets.attachment(ticketID: try ticketID(context), attachmentID: attachmentID, for: account)
        return try await FileDownload.serve(file, from: tickets.files, filename: attachment.filename, contentType: attachment.contentType, request: request)
    }

    static func ticketID(_ context: PortalRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw SupportError.notFound("ticket") }
        return id
    }
}
