#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A support department: where tickets go, and the address mail for it arrives at.
public struct Department: Sendable, Equatable, Identifiable {
    public var id: UUID
    public var name: String
    /// The department's e-mail address (mail sent to it opens tickets here).
    public var email: EmailAddress
    /// Whether clients may choose it when opening a ticket.
    public var isPublic: Bool
    public var createdAt: Date

    public init(id: UUID, name: String, email: EmailAddress, isPublic: Bool, createdAt: Date) {
        self.id = id
        self.name = name
        self.email = email
        self.isPublic = isPublic
        self.createdAt = createdAt
    }
}

/// A support ticket (without its messages).
public struct Ticket: Sendable, Equatable, Identifiable {
    public var id: UUID
    public var number: TicketNumber
    public var subject: String
    public var departmentID: UUID
    public var priority: TicketPriority
    public var status: TicketStatus
    public var clientID: UUID
    /// The client's service the ticket is about, if any.
    public var serviceID: UUID?
    /// The staff member working on it, if any.
    public var assigneeID: UUID?
    public var createdAt: Date
    public var updatedAt: Date
    /// When the status last changed (the auto-close clock and the queue's "waiting since").
    public var statusChangedAt: Date

    public init(
        id: UUID, number: TicketNumber, subject: String, departmentID: UUID, priority: TicketPriority, status: TicketStatus, clientID: UUID,
        serviceID: UUID?, assigneeID: UUID?, createdAt: Date, updatedAt: Date, statusChangedAt: Date
    ) {
        self.id = id
        self.number = number
        self.subject = subject
        self.departmentID = departmentID
        self.priority = priority
        self.status = status
        self.clientID = clientID
        self.serviceID = serviceID
        self.assigneeID = assigneeID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.statusChangedAt = statusChangedAt
    }

    /// A subject (or a canned reply's `title`): 1-200 characters, no control characters.
    public static func validateSubject(_ raw: String, field: String = "subject") throws(SupportError) -> String {
        try validText(raw, field: field, maxLength: 200, multiline: false)
    }

    /// A message body: 1-65,536 characters (line breaks and tabs allowed, other control characters not).
    public static func validateBody(_ raw: String, field: String = "message") throws(SupportError) -> String {
        try validText(raw, field: field, maxLength: 65_536, multiline: true)
    }

    /// A department name: 1-100 characters, no control characters.
    public static func validateDepartmentName(_ raw: String) throws(SupportError) -> String {
        try validText(raw, field: "name", maxLength: 100, multiline: false)
    }

    /// The one text rule behind the three above: trimmed, required, at most `maxLength`
    /// characters, no control characters (but tab, LF and CR when `multiline`).
    static func validText(_ raw: String, field: String, maxLength: Int, multiline: Bool) throws(SupportError) -> String {
        let text = raw.trimmingASCIIWhitespace()
        guard !text.isEmpty else { throw .invalid("\(field) is required", field: field) }
        guard text.count <= maxLength else { throw .invalid("\(field) must be at most \(maxLength) characters long", field: field) }
        let allowed: Set<UInt32> = multiline ? [0x09, 0x0A, 0x0D] : []
        guard !text.unicodeScalars.contains(where: { ($0.value < 0x20 && !allowed.contains($0.value)) || $0.value == 0x7F }) else {
            throw .invalid("\(field) must not contain control characters", field: field)
        }
        return text
    }
}

/// One message on a ticket.
public struct TicketMessage: Sendable, Equatable, Identifiable {
    public var id: UUID
    public var ticketID: UUID
    public var kind: MessageKind
    /// The account that wrote it (nil: written by e-mail from an address with no account).
    public var authorID: UUID?
    /// The author's name as shown (kept, so a renamed account does not rewrite history).
    public var authorName: String
    public var body: String
    public var createdAt: Date
    public var attachments: [TicketAttachment]

    public init(id: UUID, ticketID: UUID, kind: MessageKind, authorID: UUID?, authorName: String, body: String, createdAt: Date, attachments: [TicketAttachment] = []) {
        self.id = id
        self.ticketID = ticketID
        self.kind = kind
        self.authorID = authorID
        self.authorName = authorName
        self.body = body
        self.createdAt = createdAt
        self.attachments = attachments
    }
}

/// A file attached to a ticket message (or uploaded and not yet referenced: `messageID` nil).
public struct TicketAttachment: Sendable, Equatable, Identifiable {
    public var id: UUID
    /// The stored file in the catalogue (`stored_files`, type `ticket_attachments`).
    public var fileID: UUID
    public var uploaderID: UUID
    public var ticketID: UUID?
    public var messageID: UUID?
    public var filename: String
    public var size: Int64
    public var sha256: String
    public var contentType: String
    public var createdAt: Date

    public init(id: UUID, fileID: UUID, uploaderID: UUID, ticketID: UUID?, messageID: UUID?, filename: String, size: Int64, sha256: String, contentType: String, createdAt: Date) {
        self.id = id
        self.fileID = fileID
        self.uploaderID = uploaderID
        self.ticketID = ticketID
        self.messageID = messageID
        self.filename = filename
        self.size = size
        self.sha256 = sha256
        self.contentType = contentType
        self.createdAt = createdAt
    }
}

/// A prepared staff answer.
public struct CannedReply: Sendable, Equatable, Identifiable {
    public var id: UUID
    public var title: String
    public var body: String
    public var createdAt: Date

    public init(id: UUID, title: String, body: String, createdAt: Date) {
        self.id = id
        self.title = title
        self.body = body
        self.createdAt = createdAt
    }
}
