import Foundation
import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// Builds the node's ``TicketService`` from its configuration (the router and the jobs use the
/// same one), queueing ticket mail in the e-mail outbox.
enum SupportWeb {
    static func tickets(configuration: NodeConfiguration, database: any SQLDatabase, files: FileService, clock: any WallClock, logger: Logger) -> TicketService {
        TicketService(
            database: database, files: files, policy: configuration.support.attachments, autoCloseAfter: configuration.support.autoCloseAfter,
            uploadLifetime: configuration.support.uploadLifetime, notifier: OutboxTicketMail(), clock: clock, logger: logger
        )
    }

    /// Exact paths that take uploads, with their body limits (the HTML forms post multipart
    /// bodies to fixed paths, the ticket id in a field, so these limits can be exact).
    static func uploadLimits(_ configuration: NodeConfiguration) -> [String: Int] {
        let policy = configuration.support.attachments
        // The form's text fields and part headers come on top of the files.
        let form = Int(clamping: policy.maxMessageSize) + (1 << 20)
        return [
            "/api/v1/tickets/attachments": Int(clamping: policy.maxFileSize),
            "/clientarea/tickets/new": form,
            "/clientarea/tickets/reply": form,
            "/admin/tickets/reply": form,
        ]
    }
}

/// The support desk as the JSON API shows it (snake_case through ``BillingJSON``).
enum SupportViews {
    struct DepartmentView: Encodable {
        let id: String
        let name: String
        let email: String
        let `public`: Bool
        init(_ department: Department) {
            id = department.id.text
            name = department.name
            email = department.email.value
            self.public = department.isPublic
        }
    }

    struct TicketView: Encodable {
        let id: String
        let number: String
        let subject: String
        let departmentId: String
        let priority: String
        let status: String
        let clientId: String
        let serviceId: String?
        let assigneeId: String?
        let createdAt: Date
        let updatedAt: Date
        let waitingSince: Date
        init(_ ticket: Ticket) {
            id = ticket.id.text
            number = ticket.number.description
            subject = ticket.subject
            departmentId = ticket.departmentID.text
            priority = ticket.priority.rawValue
            status = ticket.status.rawValue
            clientId = ticket.clientID.text
            serviceId = ticket.serviceID?.text
            assigneeId = ticket.assigneeID?.text
            createdAt = ticket.createdAt
            updatedAt = ticket.updatedAt
            waitingSince = ticket.statusChangedAt
        }
    }

    struct AttachmentView: Encodable {
        let id: String
        let filename: String
        let size: Int64
        let sha256: String
        let contentType: String
        init(_ attachment: TicketAttachment) {
            id = attachment.id.text
            filename = attachment.filename
            size = attachment.size
            sha256 = attachment.sha256
            contentType = attachment.contentType
        }
    }

    struct MessageView: Encodable {
        let id: String
        /// `client`, `staff`, or `note` (staff only; never in a client's answer).
        let kind: String
        let `internal`: Bool
        let author: String
        let message: String
        let createdAt: Date
        let attachments: [AttachmentView]
        init(_ message: TicketMessage) {
            id = message.id.text
            kind = message.kind.rawValue
            self.internal = message.kind == .note
            author = message.authorName
            self.message = message.body
            createdAt = message.createdAt
            attachments = message.attachments.map(AttachmentView.init)
        }
    }

    struct DetailView: Encodable {
        let ticket: TicketView
        let department: DepartmentView
        let messages: [MessageView]
        init(_ detail: TicketService.Detail) {
            ticket = TicketView(detail.ticket)
            department = DepartmentView(detail.department)
            messages = detail.messages.map(MessageView.init)
        }
    }

    struct CannedReplyView: Encodable {
        let id: String
        let title: String
        let body: String
        init(_ reply: CannedReply) {
            id = reply.id.text
            title = reply.title
            body = reply.body
        }
    }
}
