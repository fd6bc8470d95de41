import Foundation
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// What happened to a ticket that its client should hear about by e-mail.
public struct TicketMailEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A ticket was opened (by the client, on the web, the API or by mail).
        case opened
        /// Staff replied (internal notes never cause mail).
        case answered
        /// The ticket was closed (by the client, staff or the auto-close job).
        case closed
    }

    public var kind: Kind
    public var ticket: Ticket
    public var department: Department
    public var clientName: String
    public var clientEmail: EmailAddress
    /// The message the event carries (the opening text, the staff reply); nil for `closed`.
    public var message: String?
    /// Who answered (`answered` only).
    public var staffName: String?

    public init(kind: Kind, ticket: Ticket, department: Department, clientName: String, clientEmail: EmailAddress, message: String?, staffName: String? = nil) {
        self.kind = kind
        self.ticket = ticket
        self.department = department
        self.clientName = clientName
        self.clientEmail = clientEmail
        self.message = message
        self.staffName = staffName
    }

    /// A key unique to this event, for an outbox that de-duplicates: the ticket, the kind and
    /// the instant of the change (`ticket_answered:<id>:<updated_at>`).
    public var dedupeKey: String {
        "ticket_\(kind.rawValue):\(ticket.id.uuidString.lowercased()):\(Int64(ticket.updatedAt.timeIntervalSince1970 * 1000))"
    }
}

/// The seam to the mail outbox: ``TicketService`` calls it inside the transaction that makes
/// the change, so the mail is queued exactly when the change commits (and not if it rolls back).
public protocol TicketMailNotifier: Sendable {
    func enqueue(_ event: TicketMailEvent, in transaction: any SQLExecutor) async throws
}

/// Sends nothing (a node without an outbox, and tests that do not look at mail).
public struct NoTicketMail: TicketMailNotifier {
    public init() {}
    public func enqueue(_ event: TicketMailEvent, in transaction: any SQLExecutor) async throws {}
}

/// Queues ticket mail in the e-mail outbox (`ticket_opened`, `ticket_answered`,
/// `ticket_closed` templates), in the caller's transaction.
public struct OutboxTicketMail: TicketMailNotifier {
    let outbox: MailOutbox

    public init(outbox: MailOutbox = MailOutbox()) {
        self.outbox = outbox
    }

    public func enqueue(_ event: TicketMailEvent, in transaction: any SQLExecutor) async throws {
        let template: MailTemplateKey = switch event.kind {
        case .opened: .ticketOpened
        case .answered: .ticketAnswered
        case .closed: .ticketClosed
        }
        var values = [
            "client_name": event.clientName, "ticket_number": event.ticket.number.description, "ticket_subject": event.ticket.subject,
            "department": event.department.name,
        ]
        if let message = event.message { values["message"] = message }
        if let staff = event.staffName { values["staff_name"] = staff }
        try await outbox.enqueue(
            transaction, template, to: try MailRecipient(address: event.clientEmail.value, name: event.clientName), values: values,
            dedupeKey: event.dedupeKey, now: event.ticket.updatedAt
        )
    }
}
