import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence

/// What delivery needs from the configuration.
public struct MailDeliverySettings: Sendable {
    /// `mail.from`: the sender of every message (header `From` and envelope `MAIL FROM`).
    public var from: Mailbox
    /// How long a claim holds a message: longer than one send may take (``SMTPMailTransport``'s
    /// timeout), so a live sender never loses its message to another node.
    public var claimLease: Duration
    /// At most this many messages per run.
    public var batchLimit: Int
    public var retry: MailRetryPolicy

    public init(from: Mailbox, claimLease: Duration, batchLimit: Int = 500, retry: MailRetryPolicy = MailRetryPolicy()) {
        self.from = from
        self.claimLease = claimLease
        self.batchLimit = batchLimit
        self.retry = retry
    }

    /// The right-hand side of generated Message-IDs: the domain of `mail.from`.
    public var messageIDDomain: String {
        let domain = from.address.split(separator: "@").last.map(String.init) ?? ""
        return domain.isEmpty ? "steadfast.invalid" : domain
    }
}

/// Sends the outbox, exactly once across the cluster (docs/mail.md).
///
/// One message at a time: claim (a short transaction that moves the row to `sending` with a lease
/// and the next claim token), send, then mark it sent — or put it back with a retry time, or mark
/// it failed — conditional on the claim token. A node that dies between claim and mark leaves
/// only that one message `sending`; once its lease runs out, the next run sends it again with
/// the Message-ID it got at its first claim, so the receiver can tell the copies apart.
public struct MailDelivery: Sendable {
    /// What one run did.
    public struct Report: Sendable, Hashable {
        public var sent = 0
        public var retried = 0
        public var failed = 0
        /// Marks refused because the claim was lost (another node took the message).
        public var lost = 0
        public init() {}
    }

    let database: any SQLDatabase
    let transport: any MailTransport
    let settings: MailDeliverySettings
    let node: String
    let clock: any WallClock
    let logger: Logger
    /// Makes what a message asks to have attached (invoice PDFs), at send time.
    let attachments: any MailAttachmentSource

    public init(
        database: any SQLDatabase, transport: any MailTransport, settings: MailDeliverySettings, node: String, clock: any WallClock, logger: Logger,
        attachments: any MailAttachmentSource = NoMailAttachmentSource()
    ) {
        self.attachments = attachments
        self.database = database
        self.transport = transport
        self.settings = settings
        self.node = node
        self.clock = clock
        self.logger = logger
    }

    /// Sends due messages until none is left or the batch limit is reached.
    public func deliverDue() async throws -> Report {
        var report = Report()
        for _ in 0..<settings.batchLimit {
            try Task.checkCancellation()
            guard let mail = try await claim() else { break }
            try await deliver(mail, report: &report)
        }
        return report
    }

    func claim() async throws -> MailOutboxRepository.Mail? {
        let now = clock.now()
        let node = self.node, lease = settings.claimLease
        let messageID = "<\(UUID().uuidString.lowercased())@\(settings.messageIDDomain)>"
        return try await database.transaction { tx in
            try await MailOutboxRepository(tx).claimNext(node: node, now: now, lease: lease, newMessageID: messageID)
        }
    }

    func deliver(_ mail: MailOutboxRepository.Mail, report: inout Report) async throws {
        let repository = MailOutboxRepository(database)
        let metadata: Logger.Metadata = ["mail_id": "\(mail.id)", "template": "\(mail.template)", "attempt": "\(mail.attempts)"]
        do {
            // The attachment is made now, outside any transaction, by whichever node sends:
            // a renderer failure is retried like a 4xx, a missing invoice fails the message.
            var files: [MailAttachment] = []
            if let stored = mail.attachment {
                guard let request = MailAttachmentRequest(stored: stored) else {
                    throw MailAttachmentUnavailable("unknown attachment '\(stored.prefix(80))'", permanent: true)
                }
                switch request {
                case .invoicePDF(let id): files.append(try await attachments.invoicePDF(id: id))
                }
                // Making it may have taken a while: renew the lease for the send, or give up
                // the message if another node has taken it meanwhile.
                let until = clock.now() + settings.claimLease
                guard try await repository.renewLease(id: mail.id, claimToken: mail.claimToken, until: until) else {
                    report.lost += 1
                    logger.warning("mail claim lost while its attachment was made; not sent", metadata: metadata)
                    return
                }
            }
            try await transport.send(envelope(for: mail, attachments: files))
        } catch {
            let failure = error as? SMTPFailure
            let unavailable = error as? MailAttachmentUnavailable
            let message = failure?.description ?? unavailable.map { "attachment: \($0.description)" } ?? "\(type(of: error)): \(error)"
            let now = clock.now()
            let permanent = failure?.isPermanent ?? unavailable?.isPermanent ?? false
            switch settings.retry.decide(attempt: mail.attempts, permanent: permanent, now: now) {
            case .retry(let at):
                if try await repository.markRetry(id: mail.id, claimToken: mail.claimToken, retryAt: at, error: message) {
                    report.retried += 1
                    logger.warning("mail delivery failed; will retry", metadata: metadata.merging(["error": "\(message)", "retry_at": "\(at)"]) { $1 })
                } else { report.lost += 1 }
            case .fail:
                if try await repository.markFailed(id: mail.id, claimToken: mail.claimToken, error: message, now: now) {
                    report.failed += 1
                    logger.error("mail delivery failed for good", metadata: metadata.merging(["error": "\(message)"]) { $1 })
                } else { report.lost += 1 }
            }
            return
        }
        if try await repository.markSent(id: mail.id, claimToken: mail.claimToken, now: clock.now()) {
            report.sent += 1
        } else {
            report.lost += 1
            logger.warning("mail sent, but its claim was lost meanwhile (another node may send it again)", metadata: metadata)
        }
    }

    /// The message as sent: headers from the row (Message-ID fixed at the first claim).
    public func envelope(for mail: MailOutboxRepository.Mail, attachments: [MailAttachment] = []) -> SMTPEnvelope {
        let message = MessageBuilder.Message(
            from: settings.from, to: Mailbox(address: mail.toAddress, name: mail.toName), subject: mail.subject,
            textBody: mail.textBody, htmlBody: mail.htmlBody.isEmpty ? nil : mail.htmlBody,
            messageID: mail.messageID ?? "<\(mail.id.uuidString.lowercased())@\(settings.messageIDDomain)>",
            date: mail.createdAt,
            extraHeaders: [("Auto-Submitted", "auto-generated"), ("X-Steadfast-Template", mail.template)], attachments: attachments
        )
        let boundary = "=_steadfast_" + mail.id.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return SMTPEnvelope(from: settings.from.address, recipients: [mail.toAddress], message: MessageBuilder.build(message, boundary: boundary))
    }
}
