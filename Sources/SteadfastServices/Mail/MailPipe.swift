import Foundation
import Logging
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// `steadfast mail pipe`: one received message in, a ticket reply or a new ticket out, and the
/// exit status for the MTA (docs/mail.md).
///
/// 1. Too large or unreadable → ``MailPipeExit/dataError`` (bounced).
/// 2. ``InboundPolicy`` screens out automatic mail and loops → dropped (exit 0), never answered.
/// 3. `[TKT-123456]` in the subject → a reply on that ticket, from the ticket's client (a client
///    reply, which reopens a closed ticket) or from a staff address (a staff reply).
/// 4. Otherwise → a new ticket in the department whose address it was sent to (the MTA's
///    envelope recipient first, then `Delivered-To`, `X-Original-To`, `To`, `Cc`); no such
///    department → ``MailPipeExit/noUser`` (bounced as "no such user").
/// 5. A sender the desk does not know (no client account, or a client's user without the
///    `support` permission; not the ticket's client, one of its users with `support`, or staff)
///    → dropped by default (a bounce would go to whoever the spam forged), or bounced with
///    `unknownSender: .bounce`.
/// 6. Attachments become ticket attachments; ones the attachment policy refuses are left off
///    and named in the message. The database or storage down → ``MailPipeExit/tempFail``.
public struct MailPipe: Sendable {
    public enum UnknownSender: String, Sendable, CaseIterable { case drop, bounce }

    public struct Outcome: Sendable, Equatable {
        public var exit: MailPipeExit
        /// One line for the log / stderr.
        public var summary: String
        public var ticket: TicketNumber?
    }

    let tickets: TicketService
    let database: any SQLDatabase
    let sendingAddress: String
    let unknownSender: UnknownSender
    let maxSize: Int
    let logger: Logger

    public init(tickets: TicketService, database: any SQLDatabase, sendingAddress: String, unknownSender: UnknownSender = .drop, maxSize: Int = 50 << 20, logger: Logger) {
        self.tickets = tickets
        self.database = database
        self.sendingAddress = sendingAddress
        self.unknownSender = unknownSender
        self.maxSize = maxSize
        self.logger = logger
    }

    public func handle(_ bytes: [UInt8], envelopeRecipient: String? = nil) async -> Outcome {
        guard bytes.count <= maxSize else { return Outcome(exit: .dataError, summary: "the message is larger than \(maxSize) bytes") }
        let mail: InboundMail
        do { mail = try InboundMail(parsing: bytes) } catch {
            return Outcome(exit: .dataError, summary: "\(error)")
        }
        do {
            // What a message opens, replies or uploads is recorded as the mail pipe's doing.
            var origin = AuditTrail.origin
            origin.actor = .gateway("mail")
            return try await AuditTrail.$origin.withValue(origin) { try await route(mail, envelopeRecipient: envelopeRecipient) }
        } catch let error as SupportError where error.kind == .storageUnavailable {
            return Outcome(exit: .tempFail, summary: "file storage unavailable: \(error.message)")
        } catch let error as SupportError {
            // Refused for a reason the sender can fix (e.g. an empty message): bounce it.
            return Outcome(exit: .dataError, summary: error.message)
        } catch {
            return Outcome(exit: .tempFail, summary: "could not record the message now (\(type(of: error))): \(error)")
        }
    }

    func route(_ mail: InboundMail, envelopeRecipient: String?) async throws -> Outcome {
        let departments = try await DepartmentRepository(database).all(publicOnly: false)
        let policy = InboundPolicy(ownAddresses: [sendingAddress] + departments.map(\.email.value))
        if case .ignore(let reason) = policy.screen(mail) {
            return Outcome(exit: .ok, summary: "dropped: \(reason)")
        }
        guard let fromText = mail.from, let sender = try? EmailAddress(fromText) else {
            return Outcome(exit: .ok, summary: "dropped: the sender address is not valid")
        }
        var files = mail.attachments.map { TicketService.UploadedBytes(filename: $0.filename, bytes: $0.bytes) }
        var text = Self.clean(mail.text)

        if let number = TicketNumber.tagged(in: mail.subject) {
            return try await withoutRefusedFiles(&files, &text) { files, text in
                do {
                    _ = try await tickets.replyByEmail(number: number, from: sender, message: text, files: files)
                    return Outcome(exit: .ok, summary: "added a reply to \(number) from \(sender.value)", ticket: number)
                } catch let error as SupportError where error.kind == .notFound {
                    return unknown("\(sender.value) may not reply to \(number)")
                }
            }
        }
        let candidates = ([envelopeRecipient].compactMap { $0 } + mail.recipients).compactMap { try? EmailAddress($0) }
        guard let address = candidates.first(where: { candidate in departments.contains { $0.email.normalized == candidate.normalized } }) else {
            return Outcome(exit: .noUser, summary: "no department has any of the addresses \(candidates.map(\.value).prefix(5).joined(separator: ", "))")
        }
        return try await withoutRefusedFiles(&files, &text) { files, text in
            do {
                let ticket = try await tickets.openByEmail(to: address, from: sender, subject: mail.subject, message: text, files: files)
                return Outcome(exit: .ok, summary: "opened \(ticket.number) in \(address.value) for \(sender.value)", ticket: ticket.number)
            } catch let error as SupportError where error.kind == .notFound {
                return unknown("\(sender.value) has no client account that may open tickets")
            }
        }
    }

    /// Runs `work`; when the attachment policy refuses the files, runs it once more without
    /// them, naming what was left off in the text.
    func withoutRefusedFiles(
        _ files: inout [TicketService.UploadedBytes], _ text: inout String,
        _ work: ([TicketService.UploadedBytes], String) async throws -> Outcome
    ) async throws -> Outcome {
        do {
            return try await work(files, text)
        } catch let error as SupportError where !files.isEmpty && (error.kind == .tooLarge || error.kind == .unsupportedType) {
            let names = files.map(\.filename).joined(separator: ", ")
            text += "\n\n[Attachments not accepted (\(error.message)): \(names)]"
            files = []
            var outcome = try await work([], text)
            outcome.summary += " (attachments left off: \(error.message))"
            return outcome
        }
    }

    func unknown(_ reason: String) -> Outcome {
        switch unknownSender {
        case .drop: Outcome(exit: .ok, summary: "dropped: \(reason)")
        case .bounce: Outcome(exit: .noUser, summary: "refused: \(reason)")
        }
    }

    /// A message body the ticket accepts: control characters removed, at most 60 000 characters,
    /// never empty.
    static func clean(_ text: String) -> String {
        var body = String(String.UnicodeScalarView(text.unicodeScalars.filter { !($0.value < 0x20 && ![0x09, 0x0A, 0x0D].contains($0.value)) && $0.value != 0x7F }))
        body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.count > 60_000 { body = String(body.prefix(60_000)) + "\n\n[message truncated]" }
        return body.isEmpty ? "(no text)" : body
    }
}
