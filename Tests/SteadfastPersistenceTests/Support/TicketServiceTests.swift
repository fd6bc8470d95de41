import AsyncHTTPClient
import Foundation
import Logging
import SteadfastConcurrency
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage
import SteadfastTestSupport
import Synchronization
import Testing

/// A support desk on one database (both engines) with a local storage directory, the real
/// outbox, and a hand-moved clock.
struct SupportFixture: Sendable {
    let db: any SQLDatabase
    let clock: ManualClock
    let directory: URL
    let tickets: TicketService

    static let policy = AttachmentPolicy(maxFileSize: 4096, maxMessageSize: 6000, maxFilesPerMessage: 3, allowedExtensions: ["txt", "png", "log"])

    init(db: any SQLDatabase, registry: StorageRegistry? = nil, drawNumber: (@Sendable () -> TicketNumber)? = nil) throws {
        self.db = db
        clock = ManualClock()
        directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-tickets")
        let registry = try registry ?? StorageRegistry(
            configuration: StorageConfiguration(targets: [StorageTarget(name: "local", kind: .local, path: directory.path)], defaultTarget: "local"),
            httpClient: HTTPClient.shared
        )
        let files = FileService(database: db, registry: registry, clock: clock, logger: Logger(label: "test"))
        if let drawNumber {
            tickets = TicketService(database: db, files: files, policy: Self.policy, autoCloseAfter: .seconds(72 * 3600), uploadLifetime: .seconds(24 * 3600),
                                    notifier: OutboxTicketMail(), clock: clock, logger: Logger(label: "test"), drawNumber: drawNumber)
        } else {
            tickets = TicketService(database: db, files: files, policy: Self.policy, autoCloseAfter: .seconds(72 * 3600), uploadLifetime: .seconds(24 * 3600),
                                    notifier: OutboxTicketMail(), clock: clock, logger: Logger(label: "test"))
        }
    }

    func account(_ role: Role, _ name: String) async throws -> Account {
        let id = UUID()
        var account = Account(id: id, email: try EmailAddress("\(name.lowercased())-\(id.uuidString.prefix(6))@example.com"), name: name, role: role, passwordHash: "$2b$04$x", createdAt: clock.now())
        try await AccountRepository(database: db).insert(account)
        if role == .staff {
            // Staff with full access, as a request would carry it (docs/accounts.md, "Staff permissions").
            try await StaffRepository(db).setRoles(accountID: id, roleIDs: [StaffRole.fullAccessID])
            account.permissions = Set(StaffPermission.allCases)
        }
        return account
    }

    /// A staff member, a client and a public department.
    func desk() async throws -> (staff: Account, client: Account, department: Department) {
        let staff = try await account(.staff, "Sam")
        let client = try await account(.client, "Cleo")
        return (staff, client, try await tickets.createDepartment(by: staff, name: "T", email: "t@example.com", isPublic: true))
    }

    func upload(_ by: Account, _ name: String, _ text: String) async throws -> TicketAttachment {
        try await upload(by, name, bytes: Array(text.utf8))
    }

    func upload(_ by: Account, _ name: String, bytes: [UInt8]) async throws -> TicketAttachment {
        try await tickets.upload(by: by, file: .init(filename: name, bytes: bytes))
    }

    func count(_ table: StaticString) async throws -> Int64 {
        let sql: SQL
        switch table.description {
        case "tickets": sql = "SELECT COUNT(*) AS n FROM tickets"
        case "ticket_attachments": sql = "SELECT COUNT(*) AS n FROM ticket_attachments"
        case "stored_files": sql = "SELECT COUNT(*) AS n FROM stored_files"
        default: sql = "SELECT COUNT(*) AS n FROM mail_outbox"
        }
        return try await db.first(sql)?.int("n") ?? -1
    }

    func mails() async throws -> [String] {
        try await db.query("SELECT template FROM mail_outbox ORDER BY created_at, template").map { try $0.string("template") }
    }

    /// Regular files under the storage directory (temporary upload files excluded).
    func storedObjects() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if !path.hasPrefix(".steadfast-tmp"), FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(path)
            }
        }
        return found
    }
}

@Suite struct TicketServiceTests {
    @Test(arguments: EngineKind.allCases)
    func aTicketsLifeWithRepliesNotesMailAndAttachments(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try SupportFixture(db: db)
            let staff = try await f.account(.staff, "Sam")
            let client = try await f.account(.client, "Cleo")
            let department = try await f.tickets.createDepartment(by: staff, name: "Technical", email: "tech@example.com", isPublic: true)
            let log = try await f.upload(client, "server.log", "line 1\nline 2\n")
            let shot = try await f.upload(client, "shot.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x41])
            #expect(shot.contentType == "image/png" && log.contentType.hasPrefix("text/plain"))

            let ticket = try await f.tickets.open(by: client, departmentID: department.id, subject: "Down", message: "It is down", priority: .high, attachmentIDs: [log.id, shot.id])
            #expect(ticket.status == .open && ticket.number.description.hasPrefix("TKT-"))
            #expect(try await f.mails() == ["ticket_opened"])

            f.clock.advance(by: 60)
            _ = try await f.tickets.reply(by: staff, ticketID: ticket.id, message: "Looking", internalNote: false)
            f.clock.advance(by: 60)
            _ = try await f.tickets.reply(by: staff, ticketID: ticket.id, message: "SECRET internal", internalNote: true)
            #expect(try await f.tickets.detail(id: ticket.id, for: staff).ticket.status == .answered)
            #expect(try await f.mails() == ["ticket_opened", "ticket_answered"])

            let seen = try await f.tickets.detail(id: ticket.id, for: client)
            #expect(seen.messages.map(\.kind) == [.client, .staff])
            #expect(!seen.messages.contains { $0.body.contains("SECRET") })
            #expect(seen.messages[0].attachments.map(\.filename) == ["server.log", "shot.png"])
            #expect(try await f.tickets.detail(id: ticket.id, for: staff).messages.map(\.kind) == [.client, .staff, .note])

            let (attachment, file) = try await f.tickets.attachment(ticketID: ticket.id, attachmentID: log.id, for: client)
            #expect(attachment.sha256 == file.sha256 && file.size == 14)

            f.clock.advance(by: 60)
            _ = try await f.tickets.reply(by: client, ticketID: ticket.id, message: "Thanks")
            #expect(try await f.tickets.detail(id: ticket.id, for: client).ticket.status == .customerReply)
            #expect(try await f.tickets.close(by: client, ticketID: ticket.id).status == .closed)
            #expect(try await f.mails() == ["ticket_opened", "ticket_answered", "ticket_closed"])
            await #expect(throws: SupportError.self) { try await f.tickets.close(by: client, ticketID: ticket.id) }
            // A used upload cannot be attached again.
            await #expect(throws: SupportError.self) {
                try await f.tickets.reply(by: client, ticketID: ticket.id, message: "again", attachmentIDs: [log.id])
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func anotherClientReachesNothingAndClientsCannotActAsStaff(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try SupportFixture(db: db)
            let staff = try await f.account(.staff, "Sam")
            let alice = try await f.account(.client, "Alice")
            let mallory = try await f.account(.client, "Mallory")
            let department = try await f.tickets.createDepartment(by: staff, name: "Sales", email: "sales@example.com", isPublic: true)
            let hidden = try await f.tickets.createDepartment(by: staff, name: "Abuse", email: "abuse@example.com", isPublic: false)
            let file = try await f.upload(alice, "a.txt", "alice's")
            let ticket = try await f.tickets.open(by: alice, departmentID: department.id, subject: "Mine", message: "private", attachmentIDs: [file.id])
            let noteFile = try await f.upload(staff, "note.txt", "staff only")
            _ = try await f.tickets.reply(by: staff, ticketID: ticket.id, message: "note", internalNote: true, attachmentIDs: [noteFile.id])

            func notFound(_ body: @escaping @Sendable () async throws -> Void) async {
                await #expect(performing: { try await body() }, throws: { ($0 as? SupportError)?.kind == .notFound })
            }
            await notFound { _ = try await f.tickets.detail(id: ticket.id, for: mallory) }
            await notFound { _ = try await f.tickets.reply(by: mallory, ticketID: ticket.id, message: "hi") }
            await notFound { _ = try await f.tickets.close(by: mallory, ticketID: ticket.id) }
            await notFound { _ = try await f.tickets.attachment(ticketID: ticket.id, attachmentID: file.id, for: mallory) }
            // The note's file: staff only.
            await notFound { _ = try await f.tickets.attachment(ticketID: ticket.id, attachmentID: noteFile.id, for: alice) }
            _ = try await f.tickets.attachment(ticketID: ticket.id, attachmentID: noteFile.id, for: staff)
            #expect(try await f.tickets.tickets(for: mallory, limit: 50, offset: 0).isEmpty)
            // A hidden department is not offered to clients, nor can they open tickets there.
            #expect(try await f.tickets.departments(for: alice).map(\.name) == ["Sales"])
            await notFound { _ = try await f.tickets.open(by: alice, departmentID: hidden.id, subject: "x", message: "y") }

            func forbidden(_ body: @escaping @Sendable () async throws -> Void) async {
                await #expect(performing: { try await body() }, throws: { ($0 as? SupportError)?.kind == .forbidden })
            }
            await forbidden { _ = try await f.tickets.createDepartment(by: alice, name: "X", email: "x@example.com", isPublic: true) }
            await forbidden { _ = try await f.tickets.update(by: alice, ticketID: ticket.id, status: .closed) }
            await forbidden { _ = try await f.tickets.reply(by: alice, ticketID: ticket.id, message: "n", internalNote: true) }
            await forbidden { _ = try await f.tickets.cannedReplies(for: alice) }
            // Someone else's upload cannot be attached.
            let malloryFile = try await f.upload(mallory, "m.txt", "m")
            await #expect(performing: { _ = try await f.tickets.reply(by: alice, ticketID: ticket.id, message: "x", attachmentIDs: [malloryFile.id]) },
                          throws: { ($0 as? SupportError)?.kind == .invalid })
        }
    }

    /// A drawn number another ticket has is drawn again; the failed attempt leaves nothing.
    @Test(arguments: EngineKind.allCases)
    func aTakenNumberIsDrawnAgain(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let draws = Mutex([100_001, 100_001, 100_001, 100_002])
            let f = try SupportFixture(db: db, drawNumber: { try! TicketNumber(draws.withLock { $0.removeFirst() }) })
            let (staff, client, department) = try await f.desk()
            let first = try await f.tickets.open(by: client, departmentID: department.id, subject: "a", message: "a")
            let second = try await f.tickets.open(by: client, departmentID: department.id, subject: "b", message: "b")
            #expect(first.number.value == 100_001 && second.number.value == 100_002)
            #expect(try await f.count("tickets") == 2)
            #expect(try await f.mails() == ["ticket_opened", "ticket_opened"])
            #expect(try await f.tickets.ticket(number: second.number)?.id == second.id)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func answeredTicketsCloseAfterTheDelayAndOthersDoNot(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try SupportFixture(db: db)
            let (staff, client, department) = try await f.desk()
            let answered = try await f.tickets.open(by: client, departmentID: department.id, subject: "a", message: "a")
            let waiting = try await f.tickets.open(by: client, departmentID: department.id, subject: "b", message: "b")
            _ = try await f.tickets.reply(by: staff, ticketID: answered.id, message: "done?")
            let start = f.clock.now()
            #expect(try await f.tickets.autoCloseAnswered(now: start.addingTimeInterval(72 * 3600 - 1)) == 0)
            #expect(try await f.tickets.autoCloseAnswered(now: start.addingTimeInterval(72 * 3600)) == 1)
            #expect(try await f.tickets.detail(id: answered.id, for: staff).ticket.status == .closed)
            #expect(try await f.tickets.detail(id: waiting.id, for: staff).ticket.status == .open)
            #expect(try await f.mails().filter { $0 == "ticket_closed" }.count == 1)
            // A second run (another node's, a retried slot) changes nothing.
            #expect(try await f.tickets.autoCloseAnswered(now: start.addingTimeInterval(100 * 3600)) == 0)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func unreferencedUploadsExpireWithTheirBytes(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try SupportFixture(db: db)
            let (staff, client, department) = try await f.desk()
            let used = try await f.upload(client, "used.txt", "kept")
            _ = try await f.tickets.open(by: client, departmentID: department.id, subject: "a", message: "a", attachmentIDs: [used.id])
            let stale = try await f.upload(client, "stale.txt", "dropped")
            #expect(f.storedObjects().count == 2)
            let start = f.clock.now()
            #expect(try await f.tickets.expireUploads(now: start.addingTimeInterval(23 * 3600)) == 0)
            #expect(try await f.tickets.expireUploads(now: start.addingTimeInterval(24 * 3600 + 1)) == 1)
            #expect(try await f.count("ticket_attachments") == 1 && f.storedObjects().count == 1)
            #expect(try await f.count("stored_files") == 1)
            await #expect(throws: SupportError.self) {
                try await f.tickets.reply(by: client, ticketID: (try await f.tickets.tickets(for: client, limit: 1, offset: 0))[0].id, message: "x", attachmentIDs: [stale.id])
            }
        }
    }

    /// A failed upload leaves neither an object nor a row: the attachment row fails (an
    /// uploader that does not exist), and separately storage is down (503, nothing recorded).
    @Test(arguments: EngineKind.allCases)
    func aFailedUploadLeavesNothing(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try SupportFixture(db: db)
            let ghost = Account(id: UUID(), email: try EmailAddress("ghost@example.com"), name: "Ghost", role: .client, passwordHash: "x", createdAt: f.clock.now())
            await #expect(throws: (any Error).self) { _ = try await f.upload(ghost, "a.txt", "bytes") }
            #expect(try await f.count("stored_files") == 0 && f.storedObjects().isEmpty)

            try await SupportFixture.withStorageDown(bucket: "tickets") { down in
                let g = try SupportFixture(db: db, registry: down)
                let client = try await g.account(.client, "Cleo")
                await #expect(performing: { _ = try await g.upload(client, "a.txt", "bytes") }, throws: { ($0 as? SupportError)?.kind == .storageUnavailable })
                #expect(try await g.count("stored_files") == 0)
                #expect(try await g.count("ticket_attachments") == 0)
                // Oversized, wrong type, and wrong content never reach storage.
                await #expect(performing: { _ = try await f.upload(client, "big.txt", String(repeating: "x", count: 5000)) }, throws: { ($0 as? SupportError)?.kind == .tooLarge })
                await #expect(performing: { _ = try await f.upload(client, "a.exe", "MZ") }, throws: { ($0 as? SupportError)?.kind == .unsupportedType })
                await #expect(performing: { _ = try await f.upload(client, "a.png", "not a png") }, throws: { ($0 as? SupportError)?.kind == .unsupportedType })
            }
            #expect(try await f.count("stored_files") == 0 && f.storedObjects().isEmpty)
        }
    }

    /// What `mail pipe` calls: a reply by e-mail from the ticket's client or staff, a stranger
    /// refused, a new ticket by the department's address.
    @Test(arguments: EngineKind.allCases)
    func mailRepliesAndNewTicketsByAddress(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try SupportFixture(db: db)
            let staff = try await f.account(.staff, "Sam")
            let client = try await f.account(.client, "Cleo")
            let stranger = try await f.account(.client, "Eve")
            let department = try await f.tickets.createDepartment(by: staff, name: "Abuse", email: "abuse@example.com", isPublic: false)
            let ticket = try await f.tickets.openByEmail(
                to: try EmailAddress("ABUSE@example.com"), from: client.email, subject: "Spam", message: "see attached", files: [.init(filename: "h.txt", bytes: Array("hdr".utf8))]
            )
            #expect(ticket.departmentID == department.id)
            #expect(try await f.tickets.detail(id: ticket.id, for: client).messages.first?.attachments.map(\.filename) == ["h.txt"])
            #expect(try await f.tickets.replyByEmail(number: ticket.number, from: staff.email, message: "handled").kind == .staff)
            #expect(try await f.tickets.replyByEmail(number: ticket.number, from: client.email, message: "thanks").kind == .client)
            await #expect(performing: { _ = try await f.tickets.replyByEmail(number: ticket.number, from: stranger.email, message: "me too") },
                          throws: { ($0 as? SupportError)?.kind == .notFound })
            await #expect(performing: { _ = try await f.tickets.openByEmail(to: try EmailAddress("nobody@example.com"), from: client.email, subject: "x", message: "y") },
                          throws: { ($0 as? SupportError)?.kind == .notFound })
        }
    }
}

extension SupportFixture {
    /// A storage registry whose one target is S3 on a loopback port nothing listens on, for
    /// `body`; its HTTP client (the storage layer's own: a refused connection fails at once, and
    /// is retried by the S3 policy, instead of waiting inside the client) is shut down after it.
    static func withStorageDown<T>(bucket: String, _ body: (StorageRegistry) async throws -> T) async throws -> T {
        let port = try FreePort.next()
        let httpClient = S3FileStorage.makeHTTPClient()
        return try await withClosing({ try await httpClient.shutdown() }) {
            try await body(try StorageRegistry(
                configuration: StorageConfiguration(targets: [StorageTarget(
                    name: "s3", kind: .s3, bucket: bucket, endpoint: "http://127.0.0.1:\(port)", accessKeyID: "k", secretAccessKey: "s"
                )], defaultTarget: "s3"),
                httpClient: httpClient
            ))
        }
    }
}
