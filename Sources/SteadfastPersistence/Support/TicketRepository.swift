import Foundation
import SteadfastDomain

/// Tickets, their messages and their attachments.
public struct TicketRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// What the staff queue and a client's list may be narrowed to.
    public struct Filter: Sendable, Equatable {
        public var clientID: UUID?
        public var departmentID: UUID?
        public var statuses: [TicketStatus]?
        public var assigneeID: UUID?

        public init(clientID: UUID? = nil, departmentID: UUID? = nil, statuses: [TicketStatus]? = nil, assigneeID: UUID? = nil) {
            self.clientID = clientID
            self.departmentID = departmentID
            self.statuses = statuses
            self.assigneeID = assigneeID
        }
    }

    /// Inserts a ticket. A number another ticket has throws ``NumberTaken`` (the caller draws
    /// another); any other failure is rethrown.
    public func insert(_ ticket: Ticket) async throws {
        do {
            try await db.query("""
                INSERT INTO tickets (id, number, subject, department_id, priority, status, client_id, service_id, assignee_id, created_at, updated_at, status_changed_at)
                VALUES (\(ticket.id), \(ticket.number.value), \(ticket.subject), \(ticket.departmentID), \(ticket.priority.rawValue), \(ticket.status.rawValue),
                        \(ticket.clientID), \(ticket.serviceID), \(ticket.assigneeID), \(ticket.createdAt), \(ticket.updatedAt), \(ticket.statusChangedAt))
                """)
        } catch let error as DatabaseError where error.kind == .uniqueViolation && [nil, "tickets_number_unique", "tickets.number"].contains(error.constraint) {
            throw NumberTaken()
        }
    }

    /// Another ticket already has the number.
    public struct NumberTaken: Error, Sendable {}

    /// The ticket `id`; with `clientID`, only if it is that client's.
    public func find(id: UUID, clientID: UUID? = nil, lock: Bool = false) async throws -> Ticket? {
        let owner: SQL = clientID.map { "AND client_id = \($0)" } ?? ""
        let locking: SQL = lock ? SQL.forUpdate(db.dialect) : ""
        return try await db.first("SELECT * FROM tickets WHERE id = \(id) \(owner)\(locking)").map(Self.ticket)
    }

    public func find(number: TicketNumber) async throws -> Ticket? {
        try await db.first("SELECT * FROM tickets WHERE number = \(number.value)").map(Self.ticket)
    }

    /// One page of tickets matching `filter`, oldest waiting first (status change time, then id).
    /// What ticket lists can be sorted by (the allow-list): by default the longest-waiting first.
    public static let sortColumns = SortableColumns([
        .init("waiting", "status_changed_at"), .init("number", "number"), .init("subject", "LOWER(subject)"), .init("status", "status"),
        .init("priority", "CASE priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END", first: .desc),
        .init("updated", "updated_at", first: .desc), .init("created", "created_at", first: .desc),
    ], default: ListSort("waiting", .asc), tieBreaker: "id")

    public func list(_ filter: Filter, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Ticket] {
        var conditions: [SQL] = []
        if let client = filter.clientID { conditions.append("client_id = \(client)") }
        if let department = filter.departmentID { conditions.append("department_id = \(department)") }
        if let assignee = filter.assigneeID { conditions.append("assignee_id = \(assignee)") }
        if let statuses = filter.statuses {
            guard !statuses.isEmpty else { return [] }
            conditions.append("status IN \(SQL.list(statuses.map(\.rawValue)))")
        }
        let clause: SQL = conditions.isEmpty ? "" : "WHERE \(SQL.joined(conditions, separator: " AND "))"
        return try await db.query("""
            SELECT * FROM tickets \(clause) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.ticket)
    }

    /// Saves a ticket's changeable fields.
    public func update(_ ticket: Ticket) async throws {
        try await db.query("""
            UPDATE tickets SET subject = \(ticket.subject), department_id = \(ticket.departmentID), priority = \(ticket.priority.rawValue),
                status = \(ticket.status.rawValue), assignee_id = \(ticket.assigneeID), updated_at = \(ticket.updatedAt),
                status_changed_at = \(ticket.statusChangedAt)
            WHERE id = \(ticket.id)
            """)
    }

    /// Tickets `answered` since before `cutoff`, oldest first, at most `limit`.
    public func answered(before cutoff: Date, limit: Int) async throws -> [Ticket] {
        try await db.query("""
            SELECT * FROM tickets WHERE status = \(TicketStatus.answered.rawValue) AND status_changed_at <= \(cutoff)
            ORDER BY status_changed_at, id LIMIT \(limit)
            """).map(Self.ticket)
    }

    /// Closes `id` if it is still answered since before `cutoff` (a reply meanwhile wins).
    public func autoClose(id: UUID, cutoff: Date, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE tickets SET status = \(TicketStatus.closed.rawValue), status_changed_at = \(now), updated_at = \(now)
            WHERE id = \(id) AND status = \(TicketStatus.answered.rawValue) AND status_changed_at <= \(cutoff)
            RETURNING id
            """)).isEmpty
    }

    // MARK: Messages

    public func insert(_ message: TicketMessage) async throws {
        try await db.query("""
            INSERT INTO ticket_messages (id, ticket_id, kind, author_id, author_name, body, created_at)
            VALUES (\(message.id), \(message.ticketID), \(message.kind.rawValue), \(message.authorID), \(message.authorName), \(message.body), \(message.createdAt))
            """)
    }

    /// The ticket's messages, oldest first, with their attachments (`includeNotes` false: what
    /// the client may see; internal notes and their files are not even read).
    public func messages(ticketID: UUID, includeNotes: Bool) async throws -> [TicketMessage] {
        let kinds: SQL = includeNotes ? "" : "AND kind <> \(MessageKind.note.rawValue)"
        let rows = try await db.query("SELECT * FROM ticket_messages WHERE ticket_id = \(ticketID) \(kinds) ORDER BY created_at, id LIMIT 10000")
        var messages = try rows.map { row in
            guard let kind = MessageKind(rawValue: try row.string("kind")) else { throw DatabaseError(.decoding, message: "ticket_messages.kind holds an unknown kind") }
            return TicketMessage(
                id: try row.uuid("id"), ticketID: try row.uuid("ticket_id"), kind: kind, authorID: try row.optionalUUID("author_id"),
                authorName: try row.string("author_name"), body: try row.string("body"), createdAt: try row.date("created_at")
            )
        }
        guard !messages.isEmpty else { return [] }
        let attachments = try await db.query("""
            SELECT * FROM ticket_attachments WHERE message_id IN \(SQL.list(messages.map(\.id))) ORDER BY created_at, filename, id
            """).map(Self.attachment)
        let byMessage = Dictionary(grouping: attachments, by: { $0.messageID })
        for index in messages.indices { messages[index].attachments = byMessage[messages[index].id] ?? [] }
        return messages
    }

    // MARK: Attachments

    public func insert(_ attachment: TicketAttachment) async throws {
        try await db.query("""
            INSERT INTO ticket_attachments (id, file_id, uploader_id, ticket_id, message_id, filename, size, sha256, content_type, created_at)
            VALUES (\(attachment.id), \(attachment.fileID), \(attachment.uploaderID), \(attachment.ticketID), \(attachment.messageID),
                    \(attachment.filename), \(attachment.size), \(attachment.sha256), \(attachment.contentType), \(attachment.createdAt))
            """)
    }

    public func attachment(id: UUID, lock: Bool = false) async throws -> TicketAttachment? {
        let locking: SQL = lock ? SQL.forUpdate(db.dialect) : ""
        return try await db.first("SELECT * FROM ticket_attachments WHERE id = \(id)\(locking)").map(Self.attachment)
    }

    /// Ties an unreferenced upload to a message; false when it is no longer unreferenced.
    public func attach(id: UUID, uploaderID: UUID, ticketID: UUID, messageID: UUID) async throws -> Bool {
        !(try await db.query("""
            UPDATE ticket_attachments SET ticket_id = \(ticketID), message_id = \(messageID)
            WHERE id = \(id) AND uploader_id = \(uploaderID) AND message_id IS NULL
            RETURNING id
            """)).isEmpty
    }

    /// Uploads no message referenced, made before `cutoff`, oldest first.
    public func unreferenced(before cutoff: Date, limit: Int) async throws -> [TicketAttachment] {
        try await db.query("""
            SELECT * FROM ticket_attachments WHERE message_id IS NULL AND created_at < \(cutoff) ORDER BY created_at, id LIMIT \(limit)
            """).map(Self.attachment)
    }

    /// Deletes an upload's row if still unreferenced; returns whether it did.
    public func deleteUnreferenced(id: UUID) async throws -> Bool {
        !(try await db.query("DELETE FROM ticket_attachments WHERE id = \(id) AND message_id IS NULL RETURNING id")).isEmpty
    }

    static func ticket(_ row: SQLRow) throws -> Ticket {
        guard let status = TicketStatus(rawValue: try row.string("status")), let priority = TicketPriority(rawValue: try row.string("priority")) else {
            throw DatabaseError(.decoding, message: "tickets holds an unknown status or priority")
        }
        let number: TicketNumber
        do { number = try TicketNumber(Int(try row.int("number"))) } catch { throw DatabaseError(.decoding, message: "tickets.number is out of range") }
        return Ticket(
            id: try row.uuid("id"), number: number, subject: try row.string("subject"), departmentID: try row.uuid("department_id"),
            priority: priority, status: status, clientID: try row.uuid("client_id"), serviceID: try row.optionalUUID("service_id"),
            assigneeID: try row.optionalUUID("assignee_id"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            statusChangedAt: try row.date("status_changed_at")
        )
    }

    static func attachment(_ row: SQLRow) throws -> TicketAttachment {
        TicketAttachment(
            id: try row.uuid("id"), fileID: try row.uuid("file_id"), uploaderID: try row.uuid("uploader_id"), ticketID: try row.optionalUUID("ticket_id"),
            messageID: try row.optionalUUID("message_id"), filename: try row.string("filename"), size: try row.int("size"),
            sha256: try row.string("sha256"), contentType: try row.string("content_type"), createdAt: try row.date("created_at")
        )
    }
}
