import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Who a message goes to.
public struct MailRecipient: Sendable, Hashable {
    public let address: String
    public let name: String

    /// `address` must be a valid e-mail address (checked with the domain's `EmailAddress`).
    public init(address: String, name: String) throws {
        let parsed = try EmailAddress(address)
        self.address = parsed.value
        self.name = String(name.filter { !$0.isNewline }.prefix(200))
    }
}

/// The e-mail outbox: the one way to send mail (docs/mail.md).
///
/// Call ``enqueue(_:_:to:values:dedupeKey:now:)`` inside the transaction that makes the event
/// happen, passing that transaction's executor: the message is rendered from the template (a
/// staff override if there is one, else the default file) and written as a `pending` row that
/// commits or rolls back with the event. The `mail-delivery` job sends it later, exactly once
/// across the cluster.
///
/// ```swift
/// try await database.transaction { tx in
///     let ticket = try await tickets.insert(...)                 // the event
///     try await MailOutbox().enqueue(tx, .ticketOpened, to: recipient,
///         values: ["ticket_number": ticket.number, ...], dedupeKey: "ticket_opened:\(ticket.id)", now: now)
/// }
/// ```
public struct MailOutbox: Sendable {
    let templates: MailTemplates

    public init(templates: MailTemplates = .shipped) {
        self.templates = templates
    }

    /// Writes one message for `template` to `to` through `tx` (a caller's open transaction).
    /// `dedupeKey`, when given, makes the call idempotent: a second enqueue with the same key
    /// writes nothing and returns `nil` (use it when the event's transaction may be retried or
    /// run twice, e.g. a reminder or a webhook). `attachment` is made by delivery when it sends
    /// (docs/mail.md, "Attachments"), never here. Returns the message id.
    @discardableResult
    public func enqueue(
        _ tx: any SQLExecutor, _ template: MailTemplateKey, to recipient: MailRecipient, values: [String: String], dedupeKey: String? = nil,
        attachment: MailAttachmentRequest? = nil, now: Date
    ) async throws -> UUID? {
        let source = try await self.source(template, db: tx)
        let rendered = try templates.render(source, values: values)
        return try await MailOutboxRepository(tx).insert(
            .init(
                template: template.rawValue, dedupeKey: dedupeKey, toAddress: recipient.address, toName: recipient.name,
                subject: rendered.subject, textBody: rendered.textBody, htmlBody: rendered.htmlBody, attachment: attachment?.stored
            ),
            now: now
        )
    }

    /// Looks the client up by account id and enqueues to their address; `nil` (nothing sent)
    /// when the account does not exist or its address cannot receive mail.
    @discardableResult
    public func enqueue(
        _ tx: any SQLExecutor, _ template: MailTemplateKey, toAccount accountID: UUID, values: [String: String], dedupeKey: String? = nil,
        attachment: MailAttachmentRequest? = nil, now: Date
    ) async throws -> UUID? {
        guard let row = try await tx.first("SELECT email, name FROM accounts WHERE id = \(accountID)"),
              // Accounts are registered with valid addresses; one that is not is skipped, never
              // allowed to fail the event (a payment) that wanted to tell its owner.
              let recipient = try? MailRecipient(address: try row.string("email"), name: try row.string("name"))
        else { return nil }
        var values = values
        if values["client_name"] == nil { values["client_name"] = recipient.name }
        return try await enqueue(tx, template, to: recipient, values: values, dedupeKey: dedupeKey, attachment: attachment, now: now)
    }

    /// The template in force: the staff override, else the default.
    public func source(_ key: MailTemplateKey, db: any SQLExecutor) async throws -> MailTemplateSource {
        if let override = try await MailTemplateRepository(db).find(key: key.rawValue) {
            return MailTemplateSource(subject: override.subject, textBody: override.textBody, htmlBody: override.htmlBody)
        }
        return templates.defaults[key]!
    }
}
