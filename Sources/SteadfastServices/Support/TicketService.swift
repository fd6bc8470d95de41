import Foundation
import Logging
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastStorage

/// The support desk's use cases: departments, tickets, messages, attachments, canned replies.
///
/// Authorisation is enforced here, whatever the caller (pages, API, `mail pipe`): a client
/// reaches only their own tickets and never sees internal notes or their files (anything else
/// is ``SupportErrorKind/notFound``); staff-only operations refuse clients with `forbidden`.
/// Ticket opened/answered/closed events are handed to the ``TicketMailNotifier`` inside the
/// transaction that makes the change.
public struct TicketService: Sendable {
    let database: any SQLDatabase
    public let files: FileService
    public let policy: AttachmentPolicy
    /// `support.auto_close_after`: answered tickets untouched this long are closed (zero: never).
    public let autoCloseAfter: Duration
    /// `support.upload_lifetime`: uploads no message references are deleted after this long.
    public let uploadLifetime: Duration
    let notifier: any TicketMailNotifier
    let clock: any WallClock
    let logger: Logger
    /// Draws ticket numbers (random; tests inject collisions).
    let drawNumber: @Sendable () -> TicketNumber

    /// How often opening a ticket draws a new number after a collision before giving up.
    static let numberAttempts = 8

    public init(
        database: any SQLDatabase, files: FileService, policy: AttachmentPolicy, autoCloseAfter: Duration, uploadLifetime: Duration,
        notifier: any TicketMailNotifier = NoTicketMail(), clock: any WallClock = SystemWallClock(), logger: Logger,
        drawNumber: @escaping @Sendable () -> TicketNumber = { var generator = SystemRandomNumberGenerator(); return TicketNumber.random(using: &generator) }
    ) {
        self.database = database
        self.files = files
        self.policy = policy
        self.autoCloseAfter = autoCloseAfter
        self.uploadLifetime = uploadLifetime
        self.notifier = notifier
        self.clock = clock
        self.logger = logger
        self.drawNumber = drawNumber
    }

    /// A ticket with what its reader may see of it.
    public struct Detail: Sendable {
        public var ticket: Ticket
        public var department: Department
        /// Oldest first; without internal notes for the client.
        public var messages: [TicketMessage]
        public var clientName: String
    }

    /// One file uploaded from memory (the HTML form, `mail pipe`).
    public struct UploadedBytes: Sendable {
        public var filename: String
        public var bytes: [UInt8]
        public init(filename: String, bytes: [UInt8]) {
            self.filename = filename
            self.bytes = bytes
        }
    }

    // MARK: Departments and canned replies

    /// Staff: a new department. Its address must be unique (mail to it opens tickets there).
    public func createDepartment(by actor: Account, name: String, email: String, isPublic: Bool) async throws -> Department {
        try SupportError.requireStaff(actor, .settingsManage)
        let department = Department(
            id: UUID(), name: try Ticket.validateDepartmentName(name), email: try Self.address(email, field: "email"), isPublic: isPublic, createdAt: clock.now()
        )
        try await database.transaction { tx in
            try await ShortList.departments.requireRoom(in: tx, refusing: SupportErrorKind.self)
            try await DepartmentRepository(tx).insert(department)
            try await AuditTrail.record(
                tx, .departmentCreated, object: AuditObject("department", department.id),
                after: ["name": department.name, "email": department.email.value, "public": String(isPublic)], now: department.createdAt
            )
        }
        return department
    }

    /// The departments `actor` may open tickets in (clients: the public ones; staff: all).
    public func departments(for actor: Account) async throws -> [Department] {
        try Self.clientScope(actor)
        return try await DepartmentRepository(database).all(publicOnly: actor.role != .staff)
    }

    public func createCannedReply(by actor: Account, title: String, body: String) async throws -> CannedReply {
        try SupportError.requireStaff(actor)
        let title = try Ticket.validateSubject(title, field: "title")
        let reply = CannedReply(id: UUID(), title: title, body: try Ticket.validateBody(body, field: "body"), createdAt: clock.now())
        try await database.transaction { tx in
            try await ShortList.cannedReplies.requireRoom(in: tx, refusing: SupportErrorKind.self)
            try await DepartmentRepository(tx).insert(reply)
            try await AuditTrail.record(tx, .cannedReplyCreated, object: AuditObject("canned_reply", reply.id), after: ["title": title], now: reply.createdAt)
        }
        return reply
    }

    public func cannedReplies(for actor: Account) async throws -> [CannedReply] {
        try SupportError.requireStaff(actor)
        return try await DepartmentRepository(database).cannedReplies()
    }

    public func deleteCannedReply(by actor: Account, id: UUID) async throws {
        try SupportError.requireStaff(actor)
        let now = clock.now()
        try await database.transaction { tx in
            guard try await DepartmentRepository(tx).deleteCannedReply(id: id) else { throw SupportError.notFound("canned reply") }
            try await AuditTrail.record(tx, .cannedReplyDeleted, object: AuditObject("canned_reply", id), now: now)
        }
    }

    // MARK: Attachments

    /// Uploads one attachment for a later ticket or reply (the API's upload-first step): the
    /// declared size and the name are checked before any byte is stored, the bytes (at most
    /// the per-file limit, held in memory to sniff them) must be exactly `declaredSize`, and the
    /// content type is sniffed. The stored file and its `ticket_attachments` row are written
    /// together: a failure leaves neither. A storage outage is `storageUnavailable` (503).
    public func upload<Body: AsyncSequence & Sendable>(
        by actor: Account, filename rawName: String, declaredSize: Int64, body: Body
    ) async throws -> TicketAttachment where Body.Element == ByteBuffer {
        let filename = try Self.filename(rawName)
        try policy.check(filename: filename, size: declaredSize)
        var collected = ByteBuffer()
        for try await var chunk in body {
            guard Int64(collected.readableBytes) + Int64(chunk.readableBytes) <= declaredSize else {
                throw SupportError.invalid("the upload has more bytes than its Content-Length", field: "content_length")
            }
            collected.writeBuffer(&chunk)
        }
        guard Int64(collected.readableBytes) == declaredSize else {
            throw SupportError.invalid("the upload ended after \(collected.readableBytes) of \(declaredSize) bytes", field: "content_length")
        }
        return try await store(by: actor, filename: filename, bytes: collected)
    }

    /// Uploads one attachment held in memory (the HTML form's files, mail attachments).
    public func upload(by actor: Account, file: UploadedBytes) async throws -> TicketAttachment {
        let filename = try Self.filename(file.filename)
        try policy.check(filename: filename, size: Int64(file.bytes.count))
        return try await store(by: actor, filename: filename, bytes: ByteBuffer(bytes: file.bytes))
    }

    func store(by actor: Account, filename: String, bytes: ByteBuffer) async throws -> TicketAttachment {
        try Self.clientScope(actor)
        let contentType = try policy.sniffedContentType(filename: filename, prefix: bytes.readableBytesView.prefix(512))
        let id = UUID()
        let now = clock.now()
        let uploader = actor.id
        do {
            let file = try await files.upload(
                type: .ticketAttachments, owner: nil, filename: filename, contentType: contentType, size: Int64(bytes.readableBytes),
                body: StorageByteStream.buffers([bytes])
            ) { tx, file in
                try await TicketRepository(tx).insert(TicketAttachment(
                    id: id, fileID: file.id, uploaderID: uploader, ticketID: nil, messageID: nil, filename: file.filename, size: file.size,
                    sha256: file.sha256, contentType: file.contentType, createdAt: now
                ))
                try await AuditTrail.record(
                    tx, .ticketAttachmentUploaded, object: AuditObject("ticket_attachment", id),
                    after: ["filename": file.filename, "size": String(file.size), "sha256": file.sha256], account: uploader, now: now
                )
            }
            return TicketAttachment(
                id: id, fileID: file.id, uploaderID: uploader, ticketID: nil, messageID: nil, filename: file.filename, size: file.size,
                sha256: file.sha256, contentType: file.contentType, createdAt: now
            )
        } catch let error as StorageError where Self.isOutage(error) {
            logger.warning("ticket attachment not stored: storage unavailable", metadata: ["error": "\(error)"])
            throw SupportError(.storageUnavailable, "file storage is unavailable right now; nothing was stored, please try again shortly")
        }
    }

    static func isOutage(_ error: StorageError) -> Bool {
        ![.sizeMismatch, .notFound, .invalidRange, .invalidKey, .invalidLink].contains(error.kind)
    }

    // MARK: Tickets

    /// A client opens a ticket in a department they may choose, with their uploads attached.
    /// The number is drawn at random and made unique by the database (drawn again on a
    /// collision); the `opened` mail is queued in the same transaction.
    public func open(
        by actor: Account, departmentID: UUID, subject: String, message: String, priority: TicketPriority = .medium,
        serviceID: UUID? = nil, attachmentIDs: [UUID] = []
    ) async throws -> Ticket {
        guard actor.role == .client else { throw SupportError(.forbidden, "tickets are opened by clients; staff reply to them") }
        try ClientAccessPolicy.client(of: actor, for: .support)
        let subject = try Ticket.validateSubject(subject)
        let body = try Ticket.validateBody(message)
        return try await openTicket(client: actor, departmentID: departmentID, publicOnly: true, subject: subject, body: body, priority: priority, serviceID: serviceID, attachmentIDs: attachmentIDs)
    }

    func openTicket(
        client: Account, departmentID: UUID, publicOnly: Bool, subject: String, body: String, priority: TicketPriority, serviceID: UUID?, attachmentIDs: [UUID]
    ) async throws -> Ticket {
        let policy = self.policy, notifier = self.notifier
        for attempt in 1...Self.numberAttempts {
            let now = clock.now()
            let ticket = Ticket(
                id: UUID(), number: drawNumber(), subject: subject, departmentID: departmentID, priority: priority, status: TicketLifecycle.initial,
                clientID: client.clientID, serviceID: serviceID, assigneeID: nil, createdAt: now, updatedAt: now, statusChangedAt: now
            )
            do {
                try await database.transaction { tx in
                    guard let department = try await DepartmentRepository(tx).find(id: departmentID), department.isPublic || !publicOnly else {
                        throw SupportError(.notFound, "department not found", field: "department_id")
                    }
                    if let serviceID {
                        guard try await tx.first("SELECT id FROM services WHERE id = \(serviceID) AND client_id = \(client.clientID)") != nil else {
                            throw SupportError(.notFound, "service not found", field: "service_id")
                        }
                    }
                    let tickets = TicketRepository(tx)
                    try await tickets.insert(ticket)
                    let message = TicketMessage(id: UUID(), ticketID: ticket.id, kind: .client, authorID: client.id, authorName: client.name, body: body, createdAt: now)
                    try await tickets.insert(message)
                    try await Self.attach(attachmentIDs, by: client.id, to: message, policy: policy, in: tx)
                    try await notifier.enqueue(
                        TicketMailEvent(kind: .opened, ticket: ticket, department: department, clientName: client.name, clientEmail: client.email, message: body), in: tx
                    )
                    try await AuditTrail.record(
                        tx, .ticketOpened, object: AuditObject("ticket", ticket.id),
                        after: ["number": "\(ticket.number)", "department_id": departmentID.uuidString.lowercased(), "status": ticket.status.rawValue, "priority": priority.rawValue],
                        account: client.clientID, now: now
                    )
                }
                logger.info("ticket opened", metadata: ["steadfast.ticket.number": "\(ticket.number)", "steadfast.ticket.id": "\(ticket.id.uuidString.lowercased())"])
                return ticket
            } catch is TicketRepository.NumberTaken {
                logger.debug("ticket number taken, drawing another", metadata: ["attempt": "\(attempt)"])
                continue
            }
        }
        throw SupportError(.conflict, "no free ticket number was found; please try again")
    }

    /// A reply: by the ticket's client (status → `customer_reply`, reopening a closed ticket),
    /// by staff (→ `answered`, queues the `answered` mail), or a staff-only internal note
    /// (`internalNote`, status unchanged, no mail).
    public func reply(by actor: Account, ticketID: UUID, message: String, internalNote: Bool = false, attachmentIDs: [UUID] = []) async throws -> TicketMessage {
        if internalNote { try SupportError.requireStaff(actor) }
        let body = try Ticket.validateBody(message)
        return try await addMessage(author: actor, authorName: actor.name, ticketID: ticketID, body: body, internalNote: internalNote, attachmentIDs: attachmentIDs)
    }

    func addMessage(author: Account, authorName: String, ticketID: UUID, body: String, internalNote: Bool, attachmentIDs: [UUID]) async throws -> TicketMessage {
        let now = clock.now()
        let policy = self.policy, notifier = self.notifier
        let kind: MessageKind = author.role == .staff ? (internalNote ? .note : .staff) : .client
        let message = TicketMessage(id: UUID(), ticketID: ticketID, kind: kind, authorID: author.id, authorName: authorName, body: body, createdAt: now)
        try await database.transaction { tx in
            let tickets = TicketRepository(tx)
            guard var ticket = try await tickets.find(id: ticketID, clientID: try Self.clientScope(author), lock: true) else {
                throw SupportError.notFound("ticket")
            }
            try await tickets.insert(message)
            try await Self.attach(attachmentIDs, by: author.id, to: message, policy: policy, in: tx)
            let event: TicketLifecycle.Event = switch kind {
            case .client: .clientReplied
            case .staff: .staffReplied
            case .note: .notePosted
            }
            let next = try TicketLifecycle.next(from: ticket.status, on: event)
            try await AuditTrail.record(
                tx, .ticketReplied, object: AuditObject("ticket", ticketID), before: ["status": ticket.status.rawValue],
                after: ["status": next.rawValue, "message_id": message.id.uuidString.lowercased(), "kind": kind.rawValue], account: ticket.clientID, now: now
            )
            if next != ticket.status { ticket.statusChangedAt = now }
            ticket.status = next
            ticket.updatedAt = now
            try await tickets.update(ticket)
            if kind == .staff {
                try await Self.notify(.answered, ticket: ticket, message: body, staffName: authorName, notifier: notifier, in: tx)
            }
        }
        return message
    }

    /// The ticket's client closes it (409 if already closed); queues the `closed` mail.
    public func close(by actor: Account, ticketID: UUID) async throws -> Ticket {
        try await change(by: actor, ticketID: ticketID, audit: .ticketClosed) { ticket in
            ticket.status = try TicketLifecycle.next(from: ticket.status, on: actor.role == .staff ? .staffSet(.closed) : .clientClosed)
        }
    }

    /// Staff change a ticket's status, assignee (a staff member; `clearAssignee` unassigns),
    /// department or priority. A change to `closed` queues the `closed` mail.
    public func update(
        by actor: Account, ticketID: UUID, status: TicketStatus? = nil, assigneeID: UUID? = nil, clearAssignee: Bool = false,
        departmentID: UUID? = nil, priority: TicketPriority? = nil
    ) async throws -> Ticket {
        try SupportError.requireStaff(actor)
        return try await change(by: actor, ticketID: ticketID, audit: .ticketUpdated) { ticket in
            if let status { ticket.status = try TicketLifecycle.next(from: ticket.status, on: .staffSet(status)) }
            if clearAssignee { ticket.assigneeID = nil }
            if let assigneeID { ticket.assigneeID = assigneeID }
            if let departmentID { ticket.departmentID = departmentID }
            if let priority { ticket.priority = priority }
        }
    }

    func change(by actor: Account, ticketID: UUID, audit: AuditAction, _ edit: @escaping @Sendable (inout Ticket) throws -> Void) async throws -> Ticket {
        let now = clock.now()
        let notifier = self.notifier
        return try await database.transaction { tx in
            let tickets = TicketRepository(tx)
            guard var ticket = try await tickets.find(id: ticketID, clientID: try Self.clientScope(actor), lock: true) else {
                throw SupportError.notFound("ticket")
            }
            let before = ticket
            try edit(&ticket)
            if ticket.assigneeID != before.assigneeID, let assignee = ticket.assigneeID {
                guard try await tx.first("SELECT id FROM accounts WHERE id = \(assignee) AND role = \(Role.staff.rawValue)") != nil else {
                    throw SupportError(.invalid, "assignee_id is not a staff member", field: "assignee_id")
                }
            }
            if ticket.departmentID != before.departmentID, (try await DepartmentRepository(tx).find(id: ticket.departmentID)) == nil {
                throw SupportError(.invalid, "department_id is not a department", field: "department_id")
            }
            guard ticket != before else { return ticket }
            if ticket.status != before.status { ticket.statusChangedAt = now }
            ticket.updatedAt = now
            try await tickets.update(ticket)
            try await AuditTrail.record(
                tx, audit, object: AuditObject("ticket", ticketID), before: Self.auditFields(before), after: Self.auditFields(ticket), account: ticket.clientID, now: now
            )
            if ticket.status == .closed, before.status != .closed {
                try await Self.notify(.closed, ticket: ticket, message: nil, notifier: notifier, in: tx)
            }
            return ticket
        }
    }

    /// What the audit trail records of a ticket's state.
    static func auditFields(_ ticket: Ticket) -> [String: String] {
        [
            "status": ticket.status.rawValue, "priority": ticket.priority.rawValue, "department_id": ticket.departmentID.uuidString.lowercased(),
            "assignee_id": ticket.assigneeID?.uuidString.lowercased() ?? "",
        ]
    }

    /// The ticket with the messages `actor` may see (404 for another client's ticket).
    public func detail(id: UUID, for actor: Account) async throws -> Detail {
        let scope = try Self.clientScope(actor), staff = scope == nil
        let tickets = TicketRepository(database)
        guard let ticket = try await tickets.find(id: id, clientID: scope) else { throw SupportError.notFound("ticket") }
        guard let department = try await DepartmentRepository(database).find(id: ticket.departmentID) else { throw SupportError.notFound("department") }
        let client = try await database.first("SELECT name FROM accounts WHERE id = \(ticket.clientID)")
        return Detail(ticket: ticket, department: department, messages: try await tickets.messages(ticketID: id, includeNotes: staff), clientName: try client?.string("name") ?? "")
    }

    /// A page of tickets: a client's own (newest activity order is the queue's order too), or
    /// for staff the queue filtered by department, status and assignee, oldest waiting first.
    public func tickets(for actor: Account, filter: TicketRepository.Filter = .init(), sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Ticket] {
        var filter = filter
        if let clientID = try Self.clientScope(actor) { filter = TicketRepository.Filter(clientID: clientID, statuses: filter.statuses) }
        return try await TicketRepository(database).list(filter, sort: sort, limit: limit, offset: offset)
    }

    /// An attachment of a ticket `actor` may see, on a message `actor` may see, with its
    /// stored file; 404 otherwise (another client's, a note's for a client, an unknown id).
    public func attachment(ticketID: UUID, attachmentID: UUID, for actor: Account) async throws -> (TicketAttachment, StoredFile) {
        let scope = try Self.clientScope(actor), staff = scope == nil
        let tickets = TicketRepository(database)
        guard try await tickets.find(id: ticketID, clientID: scope) != nil,
              let attachment = try await tickets.attachment(id: attachmentID), attachment.ticketID == ticketID, let messageID = attachment.messageID,
              let kindRow = try await database.first("SELECT kind FROM ticket_messages WHERE id = \(messageID)"),
              try staff || MessageKind(rawValue: kindRow.string("kind"))?.visibleToClient == true,
              let file = try await files.file(id: attachment.fileID, owner: nil)
        else {
            throw SupportError.notFound("attachment")
        }
        return (attachment, file)
    }

    // MARK: For `mail pipe`

    /// The ticket numbered `number` (`[TKT-482913]` in a mail subject), whoever's it is.
    public func ticket(number: TicketNumber) async throws -> Ticket? {
        try await TicketRepository(database).find(number: number)
    }

    /// The account with e-mail address `address`, if any and not disabled; staff carry their
    /// permissions (a reply by mail is allowed like one through the API).
    public func account(email address: EmailAddress) async throws -> Account? {
        guard var account = try await AccountRepository(database: database).find(email: address), account.disabledAt == nil else { return nil }
        if account.role == .staff { account.permissions = try await StaffRepository(database).permissions(accountID: account.id) }
        return account
    }

    /// Adds a reply that arrived by e-mail from `sender` to ticket `number`: from the ticket's
    /// client it is a client reply, from a staff address a staff reply (never an internal
    /// note); any other sender is refused with `notFound` (the mail policy decides what then).
    /// `files` become the message's attachments (each checked like an upload).
    public func replyByEmail(number: TicketNumber, from sender: EmailAddress, message: String, files: [UploadedBytes] = []) async throws -> TicketMessage {
        // The ticket's client, or one of its users allowed `support` (ClientAccessPolicy), or the desk.
        guard let ticket = try await ticket(number: number), let account = try await account(email: sender),
              Self.seesEveryTicket(account) || (ClientAccessPolicy.allows(account, .support) && account.clientID == ticket.clientID)
        else {
            throw SupportError.notFound("ticket for this sender")
        }
        let body = try Ticket.validateBody(message)
        let uploads = try await uploadAll(files, by: account)
        return try await addMessage(author: account, authorName: account.name, ticketID: ticket.id, body: body, internalNote: false, attachmentIDs: uploads)
    }

    /// Opens a ticket from an e-mail sent to `departmentAddress` by `sender`, who must be a
    /// client account or a client's user with `support` (`notFound` otherwise, and for an
    /// address no department has); the ticket is the client's. The
    /// department need not be public: mail to its address is how it is reached.
    public func openByEmail(
        to departmentAddress: EmailAddress, from sender: EmailAddress, subject: String, message: String, files: [UploadedBytes] = []
    ) async throws -> Ticket {
        guard let department = try await DepartmentRepository(database).find(email: departmentAddress) else { throw SupportError.notFound("department for this address") }
        // A client's user opens tickets for its client only with the `support` permission, as on the web.
        guard let client = try await account(email: sender), client.role == .client, ClientAccessPolicy.allows(client, .support) else {
            throw SupportError.notFound("client account for this sender")
        }
        let subject = try Ticket.validateSubject(subject.isEmpty ? "(no subject)" : subject)
        let body = try Ticket.validateBody(message)
        let uploads = try await uploadAll(files, by: client)
        return try await openTicket(client: client, departmentID: department.id, publicOnly: false, subject: subject, body: body, priority: .medium, serviceID: nil, attachmentIDs: uploads)
    }

    func uploadAll(_ files: [UploadedBytes], by account: Account) async throws -> [UUID] {
        try policy.check(messageFileSizes: files.map { Int64($0.bytes.count) })
        var ids: [UUID] = []
        for file in files { ids.append(try await upload(by: account, file: file).id) }
        return ids
    }

    // MARK: Jobs

    /// Closes every ticket `answered` for at least ``autoCloseAfter`` at `now` (none when it is
    /// zero), queueing each `closed` mail with its change; returns how many it closed.
    public func autoCloseAnswered(now: Date, batch: Int = 200) async throws -> Int {
        guard let cutoff = TicketLifecycle.autoCloseCutoff(now: now, after: autoCloseAfter) else { return 0 }
        let notifier = self.notifier
        var closed = 0
        while true {
            let due = try await TicketRepository(database).answered(before: cutoff, limit: batch)
            for ticket in due {
                let didClose = try await database.transaction { tx in
                    guard try await TicketRepository(tx).autoClose(id: ticket.id, cutoff: cutoff, now: now) else { return false }
                    var closedTicket = ticket
                    closedTicket.status = .closed
                    closedTicket.statusChangedAt = now
                    closedTicket.updatedAt = now
                    try await Self.notify(.closed, ticket: closedTicket, message: nil, notifier: notifier, in: tx)
                    try await AuditTrail.record(
                        tx, .ticketAutoClosed, object: AuditObject("ticket", ticket.id), before: ["status": ticket.status.rawValue],
                        after: ["status": TicketStatus.closed.rawValue], account: ticket.clientID, now: now
                    )
                    return true
                }
                if didClose { closed += 1 }
            }
            if due.count < batch { return closed }
        }
    }

    /// Deletes uploads no message referenced within ``uploadLifetime`` of `now` (rows and
    /// bytes); returns how many.
    public func expireUploads(now: Date, batch: Int = 200) async throws -> Int {
        let cutoff = now - uploadLifetime
        var removed = 0
        while true {
            let stale = try await TicketRepository(database).unreferenced(before: cutoff, limit: batch)
            for attachment in stale {
                guard let file = try await files.file(id: attachment.fileID, owner: nil) else { continue }
                do {
                    try await files.delete(file) { tx in
                        guard try await TicketRepository(tx).deleteUnreferenced(id: attachment.id) else { throw StillReferenced() }
                        try await AuditTrail.record(
                            tx, .ticketAttachmentExpired, object: AuditObject("ticket_attachment", attachment.id),
                            before: ["filename": file.filename, "size": String(file.size)], account: file.ownerID, now: now
                        )
                    }
                    removed += 1
                } catch is StillReferenced {
                    continue
                }
            }
            if stale.count < batch { return removed }
        }
    }

    struct StillReferenced: Error {}

    // MARK: Helpers

    /// Whether `actor` works the ticket desk (`support.reply`): sees every ticket and internal
    /// notes. Anyone else — clients, and staff without it — sees only their own tickets.
    /// Whose tickets `actor` works on: `nil` for the ticket desk (every ticket), else its
    /// client's — the owner's for a client's user, which needs the client permission `support`
    /// (``ClientAccessPolicy``, docs/accounts.md "Client users").
    @discardableResult
    static func clientScope(_ actor: Account) throws -> UUID? {
        if seesEveryTicket(actor) { return nil }
        return try ClientAccessPolicy.client(of: actor, for: .support)
    }

    static func seesEveryTicket(_ actor: Account) -> Bool {
        StaffPolicy.allows(actor, .supportReply)
    }

    static func address(_ raw: String, field: String) throws(SupportError) -> EmailAddress {
        do { return try EmailAddress(raw) } catch { throw .invalid("\(field) is not a valid e-mail address", field: field) }
    }

    /// The upload's name through the file catalogue's rules, as a support error.
    static func filename(_ raw: String) throws -> String {
        do { return try FileService.validFilename(raw) } catch { throw SupportError.invalid(error.message, field: "filename") }
    }

    /// Ties uploads to a message: each must be the author's own, not yet used, and together
    /// within the per-message limits.
    static func attach(_ ids: [UUID], by uploader: UUID, to message: TicketMessage, policy: AttachmentPolicy, in tx: any SQLExecutor) async throws {
        guard !ids.isEmpty else { return }
        guard Set(ids).count == ids.count else { throw SupportError.invalid("an attachment is listed twice", field: "attachments") }
        let tickets = TicketRepository(tx)
        var sizes: [Int64] = []
        for id in ids {
            guard let attachment = try await tickets.attachment(id: id, lock: true), attachment.uploaderID == uploader, attachment.messageID == nil else {
                throw SupportError(.invalid, "attachment \(id.uuidString.lowercased()) is not an unused upload of yours (uploads expire if not used)", field: "attachments")
            }
            sizes.append(attachment.size)
        }
        try policy.check(messageFileSizes: sizes)
        for id in ids {
            guard try await tickets.attach(id: id, uploaderID: uploader, ticketID: message.ticketID, messageID: message.id) else {
                throw SupportError(.invalid, "attachment \(id.uuidString.lowercased()) was used or expired meanwhile", field: "attachments")
            }
        }
    }

    static func notify(
        _ kind: TicketMailEvent.Kind, ticket: Ticket, message: String?, staffName: String? = nil, notifier: any TicketMailNotifier, in tx: any SQLExecutor
    ) async throws {
        guard let department = try await DepartmentRepository(tx).find(id: ticket.departmentID),
              let client = try await tx.first("SELECT name, email FROM accounts WHERE id = \(ticket.clientID)")
        else { return }
        try await notifier.enqueue(
            TicketMailEvent(kind: kind, ticket: ticket, department: department, clientName: try client.string("name"), clientEmail: try EmailAddress(try client.string("email")), message: message,
                            staffName: staffName),
            in: tx
        )
    }
}
