import AsyncHTTPClient
import Foundation
import Logging
import SteadfastDomain
@testable import SteadfastMail
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage
import SteadfastTestSupport
import Testing

enum MailFixtures {
    static func bytes(_ name: String, number: TicketNumber? = nil) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/mail/\(name)", withExtension: "eml"))
        var data = Array(try Data(contentsOf: url))
        if let number {
            let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "TKT-NUMBER", with: number.description)
            data = Array(text.utf8)
        }
        return data
    }
}

@Suite("MIME parsing of received mail")
struct InboundMailTests {
    @Test func plainQuotedPrintable() throws {
        let mail = try InboundMail(parsing: MailFixtures.bytes("plain"))
        #expect(mail.from == "alice@example.org" && mail.fromName == "Alice Client")
        #expect(mail.recipients == ["support@example.com"])
        #expect(mail.subject == "My server does not boot")
        #expect(mail.text.contains("shows \u{201C}kernel panic\u{201D}. Can you have a look?"))
        #expect(mail.text.contains("\n.\nThanks, Alice"))
        #expect(mail.attachments.isEmpty)
    }

    @Test func multipartAlternativePrefersThePlainTextAndDecodesTheSubject() throws {
        let mail = try InboundMail(parsing: MailFixtures.bytes("alternative"))
        #expect(mail.subject == "Rechnung für März")
        #expect(mail.fromName == "Client, Alice" && mail.from == "alice@example.org")
        #expect(mail.text == "Plain version: the invoice for März is wrong.")
        #expect(mail.attachments.isEmpty)
    }

    @Test func attachmentsAreDecodedWithTheirNames() throws {
        let mail = try InboundMail(parsing: MailFixtures.bytes("attachments"))
        #expect(mail.text == "See the attached log and screenshot.")
        #expect(mail.attachments.map(\.filename) == ["screen.png", "büro.log"])
        let png: [UInt8] = [
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
            0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0xF8, 0xFF, 0xFF, 0x3F,
            0x00, 0x05, 0xFE, 0x02, 0xFE, 0xA7, 0xD6, 0xA4, 0x89, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
        ]
        #expect(mail.attachments[0].bytes == png)
        #expect(String(decoding: mail.attachments[1].bytes, as: UTF8.self) == "line 1: ok\nline 2: disk full\n")
    }

    @Test func nonUTF8CharsetsAreDecoded() throws {
        let mail = try InboundMail(parsing: MailFixtures.bytes("latin1"))
        #expect(mail.fromName == "René Müller")
        #expect(mail.subject == "\u{201C}Café\u{201D} € invoice")
        #expect(mail.text.hasPrefix("Grüße aus Köln"))
        let note = try #require(mail.attachments.first)
        #expect(note.filename == "note.txt" && note.bytes.first == 0x93)
    }

    @Test func headerAndParameterEdgeCases() throws {
        #expect(InboundMail.addresses(in: "\"Doe, John\" <j@x.org>, k@y.org (Kay), =?utf-8?q?J=C3=BCrgen?= <jj@z.org>").map(\.address) == ["j@x.org", "k@y.org", "jj@z.org"])
        let (value, params) = MIMEParser.parseParameterized("attachment; filename*0*=utf-8''caf%C3%A9; filename*1=\".txt\"")
        #expect(value == "attachment" && params["filename"] == "café.txt")
        #expect(MIMEParser.decodeBase64(Array("aGVs\r\nbG8=\r\n".utf8)[...]) == Array("hello".utf8))
        // A multipart without its closing boundary still yields its parts.
        let open = try MIMEParser.parse(Array("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\none\r\n--x\r\n\r\ntwo".utf8))
        #expect(open.parts.map { String(decoding: $0.body, as: UTF8.self) } == ["one", "two"])
        // Nesting is bounded.
        var nested = "Content-Type: text/plain\r\n\r\nleaf"
        for depth in 0..<40 { nested = "Content-Type: multipart/mixed; boundary=b\(depth)\r\n\r\n--b\(depth)\r\n\(nested)\r\n--b\(depth)--" }
        #expect(throws: MIMEParseError.self) { _ = try MIMEParser.parse(Array(nested.utf8)) }
    }

    @Test func thePolicyDropsAutomaticMailAndLoops() throws {
        let policy = InboundPolicy(ownAddresses: ["billing@steadfast.example", "support@example.com"])
        #expect(policy.screen(try InboundMail(parsing: MailFixtures.bytes("plain"))) == .process)
        for name in ["autoreply", "bulk", "loop"] {
            guard case .ignore = policy.screen(try InboundMail(parsing: MailFixtures.bytes(name))) else { Issue.record("\(name) was not dropped"); continue }
        }
        let received = String(repeating: "Received: from a by b\r\n", count: 31) + "From: x@y.org\r\nSubject: hi\r\n\r\nbody"
        #expect(policy.screen(try InboundMail(parsing: Array(received.utf8))) != .process)
        let bounce = "Return-Path: <>\r\nFrom: x@y.org\r\nSubject: Undelivered\r\n\r\nbody"
        #expect(policy.screen(try InboundMail(parsing: Array(bounce.utf8))) != .process)
    }
}

/// `mail pipe` end to end in process: a real TicketService on each engine with local storage.
@Suite("mail pipe", .serialized)
struct MailPipeTests {
    struct Desk {
        let db: any SQLDatabase
        let tickets: TicketService
        let client: Account
        let staff: Account
        let directory: URL

        init(_ db: any SQLDatabase) async throws {
            self.db = db
            directory = try TestPaths.makeTemporaryDirectory(prefix: "mail-pipe")
            let registry = try StorageRegistry(
                configuration: StorageConfiguration(targets: [StorageTarget(name: "local", kind: .local, path: directory.path)], defaultTarget: "local"),
                httpClient: HTTPClient.shared
            )
            let files = FileService(database: db, registry: registry, clock: SystemWallClock(), logger: Logger(label: "test"))
            tickets = TicketService(
                database: db, files: files, policy: AttachmentPolicy(maxFileSize: 4096, maxMessageSize: 8192, maxFilesPerMessage: 3, allowedExtensions: ["txt", "png", "log"]),
                autoCloseAfter: .seconds(3600), uploadLifetime: .seconds(3600), notifier: OutboxTicketMail(), logger: Logger(label: "test")
            )
            let accounts = AccountRepository(database: db)
            client = Account(id: UUID(), email: try EmailAddress("alice@example.org"), name: "Alice", role: .client, passwordHash: "$2b$04$x", createdAt: Date())
            var staff = Account(id: UUID(), email: try EmailAddress("staff@example.com"), name: "Sam Staff", role: .staff, passwordHash: "$2b$04$x", createdAt: Date())
            staff.permissions = Set(StaffPermission.allCases)
            self.staff = staff
            try await accounts.insert(client)
            try await accounts.insert(staff)
            try await StaffRepository(db).setRoles(accountID: staff.id, roleIDs: [StaffRole.fullAccessID])
            try await DepartmentRepository(db).insert(Department(id: UUID(), name: "Support", email: try EmailAddress("support@example.com"), isPublic: true, createdAt: Date()))
        }

        func pipe(_ unknown: MailPipe.UnknownSender = .drop) -> MailPipe {
            MailPipe(tickets: tickets, database: db, sendingAddress: "billing@steadfast.example", unknownSender: unknown, maxSize: 1 << 20, logger: Logger(label: "test"))
        }

        func outbox() async throws -> [String] {
            try await db.query("SELECT template, to_address FROM mail_outbox ORDER BY created_at").map { "\(try $0.string("template")) \(try $0.string("to_address"))" }
        }
    }

    /// What received mail opens or adds is on the audit trail as the mail pipe's doing
    /// (actor `gateway` `mail`), concerning the ticket's client; dropped mail records nothing.
    @Test(arguments: EngineKind.allCases)
    func mailMadeChangesAreTheMailGatewaysOnTheAuditTrail(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let desk = try await Desk(db)
            defer { try? FileManager.default.removeItem(at: desk.directory) }
            let opened = await desk.pipe().handle(try MailFixtures.bytes("plain"))
            let number = try #require(opened.ticket, "\(opened.summary)")
            #expect(await desk.pipe().handle(try MailFixtures.bytes("reply", number: number)).exit == .ok)
            #expect(await desk.pipe().handle(try MailFixtures.bytes("autoreply", number: number)).exit == .ok)
            let events = try await AuditEventRepository(db).list(.init(), limit: 100, offset: 0).reversed()
            #expect(events.map(\.action) == [AuditAction.ticketOpened.rawValue, AuditAction.ticketReplied.rawValue], "\(events.map(\.action))")
            #expect(events.allSatisfy { $0.actor == .gateway("mail") && $0.accountID == desk.client.id }, "\(events.map(\.actor))")
        }
    }

    /// A client's user acts by mail as on the web (docs/accounts.md, "Client users"): with the
    /// `support` permission it opens tickets for its client and replies on the client's tickets;
    /// without it, or disabled, its mail is a stranger's.
    @Test(arguments: EngineKind.allCases)
    func aClientsUsersMailNeedsTheSupportPermission(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let desk = try await Desk(db)
            defer { try? FileManager.default.removeItem(at: desk.directory) }
            func user(_ address: String, _ permissions: Set<ClientPermission>) async throws {
                let account = Account(id: UUID(), email: try EmailAddress(address), name: address, role: .client, passwordHash: "$2b$04$x", createdAt: Date())
                try await AccountRepository(database: db).insert(account)
                try await ClientUserRepository(db).insert(accountID: account.id, clientID: desk.client.id, permissions: permissions, invitedBy: desk.client.id, now: Date())
            }
            try await user("helper@example.org", [.support])
            try await user("accounts@example.org", [.billing])
            func mail(from: String, subject: String) -> [UInt8] {
                Array("From: \(from)\r\nTo: support@example.com\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID())@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease have a look.\r\n".utf8)
            }

            // With `support`: the ticket is the client's, not the user's.
            let opened = await desk.pipe().handle(mail(from: "helper@example.org", subject: "Mail is slow"))
            let number = try #require(opened.ticket, "\(opened.summary)")
            #expect(try await desk.tickets.ticket(number: number)?.clientID == desk.client.id)
            // Without it: not opened, and not a reply either (dropped by default, bounced when asked).
            let refused = await desk.pipe().handle(mail(from: "accounts@example.org", subject: "Mail is slow too"))
            #expect(refused.exit == .ok && refused.ticket == nil && refused.summary.hasPrefix("dropped"), "\(refused.summary)")
            #expect(await desk.pipe(.bounce).handle(mail(from: "accounts@example.org", subject: "Again")).exit == .noUser)
            #expect(await desk.pipe().handle(mail(from: "accounts@example.org", subject: "Re: [\(number)] Mail is slow")).ticket == nil)
            // The owner's ticket takes a reply from the user with `support`.
            let ownerTicket = try #require(await desk.pipe().handle(try MailFixtures.bytes("plain")).ticket)
            let reply = await desk.pipe().handle(mail(from: "helper@example.org", subject: "Re: [\(ownerTicket)] My server does not boot"))
            #expect(reply.ticket == ownerTicket, "\(reply.summary)")
            let ticketID = try #require(try await desk.tickets.ticket(number: ownerTicket)?.id)
            #expect(try await desk.tickets.detail(id: ticketID, for: desk.staff).messages.count == 2)
            let tickets = try await db.query("SELECT id FROM tickets")
            #expect(tickets.count == 2)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func newTicketsRepliesAndWhatIsNeverAnswered(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let desk = try await Desk(db)
            defer { try? FileManager.default.removeItem(at: desk.directory) }
            // Plain mail to the department's address opens a ticket and acknowledges it.
            let opened = await desk.pipe().handle(try MailFixtures.bytes("plain"))
            #expect(opened.exit == .ok, "\(opened.summary)")
            let number = try #require(opened.ticket)
            let ticket = try #require(try await desk.tickets.ticket(number: number))
            #expect(ticket.subject == "My server does not boot" && ticket.clientID == desk.client.id)
            #expect(try await desk.outbox() == ["ticket_opened alice@example.org"])

            // The client closes it; a reply by mail reopens it.
            _ = try await desk.tickets.close(by: desk.client, ticketID: ticket.id)
            let reply = await desk.pipe().handle(try MailFixtures.bytes("reply", number: number))
            #expect(reply.exit == .ok && reply.ticket == number, "\(reply.summary)")
            var detail = try await desk.tickets.detail(id: ticket.id, for: desk.staff)
            #expect(detail.ticket.status == .customerReply)
            #expect(detail.messages.map(\.body).last == "It boots again, but please check once more.")

            // An out-of-office answer, a newsletter and the portal's own mail coming back: accepted
            // and dropped, nothing added and nothing sent.
            let mailsBefore = try await desk.outbox()
            for name in ["autoreply", "bulk", "loop"] {
                let outcome = await desk.pipe().handle(try MailFixtures.bytes(name, number: number))
                #expect(outcome.exit == .ok && outcome.summary.hasPrefix("dropped"), "\(name): \(outcome.summary)")
            }
            detail = try await desk.tickets.detail(id: ticket.id, for: desk.staff)
            #expect(detail.messages.count == 2)
            #expect(try await desk.outbox() == mailsBefore)

            // A stranger using the ticket number: dropped by default, bounced when asked.
            #expect(await desk.pipe().handle(try MailFixtures.bytes("stranger", number: number)).exit == .ok)
            #expect(await desk.pipe(.bounce).handle(try MailFixtures.bytes("stranger", number: number)).exit == .noUser)
            #expect(try await desk.tickets.detail(id: ticket.id, for: desk.staff).messages.count == 2)

            // Staff answer by mail: a staff reply, and the client is told.
            #expect(await desk.pipe().handle(try MailFixtures.bytes("staff-reply", number: number)).exit == .ok)
            detail = try await desk.tickets.detail(id: ticket.id, for: desk.staff)
            #expect(detail.ticket.status == .answered && detail.messages.last?.kind == .staff)
            #expect(try await desk.outbox().last == "ticket_answered alice@example.org")

            // No department at the address: bounce as no such user. Garbage: bounce as bad data.
            #expect(await desk.pipe().handle(try MailFixtures.bytes("nodepartment")).exit == .noUser)
            #expect(await desk.pipe().handle([UInt8](repeating: 0x41, count: (1 << 20) + 1)).exit == .dataError)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func attachmentsAndCharsetsArriveInTheTicket(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let desk = try await Desk(db)
            defer { try? FileManager.default.removeItem(at: desk.directory) }
            let withFiles = await desk.pipe().handle(try MailFixtures.bytes("attachments"))
            #expect(withFiles.exit == .ok, "\(withFiles.summary)")
            let number = try #require(withFiles.ticket)
            let ticket = try #require(try await desk.tickets.ticket(number: number))
            let detail = try await desk.tickets.detail(id: ticket.id, for: desk.client)
            #expect(detail.messages.first?.attachments.map(\.filename).sorted() == ["büro.log", "screen.png"])
            #expect(detail.messages.first?.attachments.map(\.size).sorted() == [29, 69])

            let alternative = await desk.pipe().handle(try MailFixtures.bytes("alternative"))
            let altNumber = try #require(alternative.ticket)
            let altTicket = try #require(try await desk.tickets.ticket(number: altNumber))
            #expect(altTicket.subject == "Rechnung für März")

            let latin = await desk.pipe().handle(try MailFixtures.bytes("latin1"))
            #expect(latin.exit == .ok, "\(latin.summary)")
            let latinNumber = try #require(latin.ticket)
            let latinTicket = try #require(try await desk.tickets.ticket(number: latinNumber))
            #expect(latinTicket.subject == "\u{201C}Café\u{201D} € invoice")
            let body = try await desk.tickets.detail(id: latinTicket.id, for: desk.client).messages.first?.body ?? ""
            #expect(body.hasPrefix("Grüße aus Köln"))
        }
    }
}
