import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The staff side of the support API under `/api/v1/admin` (``RequirePermission`` on
/// the group): departments, the ticket queue, replies and internal notes, ticket changes,
/// canned replies.
struct SupportAdminAPIController: Sendable {
    let tickets: TicketService

    struct DepartmentInput: Decodable {
        let name: String
        let email: String
        let `public`: Bool?
    }

    struct ReplyInput: Decodable {
        let message: String
        let `internal`: Bool?
        let attachments: [UUID]?
    }

    struct UpdateInput: Decodable {
        let status: String?
        let assigneeId: UUID?
        let departmentId: UUID?
        let priority: String?
        let unassign: Bool?
    }

    struct CannedInput: Decodable {
        let title: String
        let body: String
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        let admin = api.group("admin")
        admin.group().add(middleware: RequirePermission(.settingsManage)).post("support/departments", use: createDepartment)
        let desk = admin.group().add(middleware: RequirePermission(.supportReply))
        desk.get("support/departments", use: departments)
        desk.get("support/canned-replies", use: cannedReplies)
        desk.post("support/canned-replies", use: createCannedReply)
        desk.delete("support/canned-replies/{id}", use: deleteCannedReply)
        desk.get("tickets", use: queue)
        desk.get("tickets/{id}", use: show)
        desk.post("tickets/{id}/replies", use: reply)
        desk.put("tickets/{id}", use: update)
        desk.get("tickets/{id}/attachments/{attachment_id}/content", use: content)
    }

    @Sendable func createDepartment(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: DepartmentInput.self, context: context)
        let department = try await tickets.createDepartment(by: try context.requireAccount(), name: input.name, email: input.email, isPublic: input.public ?? true)
        return try context.responseEncoder.encode(SupportViews.DepartmentView(department), status: .created, from: request, context: context)
    }

    @Sendable func departments(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(["items": try await tickets.departments(for: try context.requireAccount()).map(SupportViews.DepartmentView.init)], from: request, context: context)
    }

    @Sendable func cannedReplies(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(["items": try await tickets.cannedReplies(for: try context.requireAccount()).map(SupportViews.CannedReplyView.init)], from: request, context: context)
    }

    @Sendable func createCannedReply(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: CannedInput.self, context: context)
        let reply = try await tickets.createCannedReply(by: try context.requireAccount(), title: input.title, body: input.body)
        return try context.responseEncoder.encode(SupportViews.CannedReplyView(reply), status: .created, from: request, context: context)
    }

    @Sendable func deleteCannedReply(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await tickets.deleteCannedReply(by: try context.requireAccount(), id: try context.id(what: "canned reply"))
        return Response(status: .noContent)
    }

    /// `GET /api/v1/admin/tickets?department_id=&status=&assignee_id=&limit=&offset=`: oldest
    /// waiting first. `status` may list several (`open,customer_reply`).
    @Sendable func queue(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        return try await context.pagedJSON(request, item: SupportViews.TicketView.init) {
            try await tickets.tickets(for: staff, filter: try Self.filter(request), sort: try ListSorting.parse(request, columns: TicketRepository.sortColumns), limit: $0, offset: $1)
        }
    }

    static func filter(_ request: Request) throws -> TicketRepository.Filter {
        let query = request.uri.queryParameters
        func uuid(_ name: String) throws -> UUID? {
            guard let text = query.get(name), !text.isEmpty else { return nil }
            guard let id = UUID(uuidString: text) else { throw InvalidParameter(name: name, message: "\(name) must be an id") }
            return id
        }
        var statuses: [TicketStatus]?
        if let text = query.get("status"), !text.isEmpty {
            statuses = try text.split(separator: ",").map { try TicketStatus(parsing: String($0)) }
        }
        return TicketRepository.Filter(departmentID: try uuid("department_id"), statuses: statuses, assigneeID: try uuid("assignee_id"))
    }

    @Sendable func show(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(SupportViews.DetailView(try await tickets.detail(id: try SupportAPIController.ticketID(context), for: try context.requireAccount())), from: request, context: context)
    }

    @Sendable func reply(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let input = try await request.decode(as: ReplyInput.self, context: context)
        let message = try await tickets.reply(
            by: staff, ticketID: try SupportAPIController.ticketID(context), message: input.message, internalNote: input.internal ?? false,
            attachmentIDs: input.attachments ?? []
        )
        return try context.responseEncoder.encode(SupportViews.MessageView(message), status: .created, from: request, context: context)
    }

    @Sendable func update(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let input = try await request.decode(as: UpdateInput.self, context: context)
        let ticket = try await tickets.update(
            by: staff, ticketID: try SupportAPIController.ticketID(context), status: try input.status.map { try TicketStatus(parsing: $0) },
            assigneeID: input.assigneeId, clearAssignee: input.unassign ?? false, departmentID: input.departmentId,
            priority: try input.priority.map { try TicketPriority(parsing: $0) }
        )
        return try context.responseEncoder.encode(SupportViews.TicketView(ticket), from: request, context: context)
    }

    @Sendable func content(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await SupportAPIController.serve(tickets: tickets, account: try context.requireAccount(), request: request, context: context)
    }
}
