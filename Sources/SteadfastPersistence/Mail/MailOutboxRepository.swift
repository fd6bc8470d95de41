import Foundation
import SteadfastDomain

/// The SQL of the e-mail outbox (`mail_outbox`, migration 500; docs/mail.md).
///
/// Delivery is claim → send → mark. A claim moves one due row to `sending` under a lease and adds
/// one to its `claim_token`; the marks that follow are conditional on that token, so a node that
/// lost its claim (its lease ran out and another node took the row) writes nothing. On PostgreSQL
/// the claim skips rows another node has locked (`FOR UPDATE SKIP LOCKED`), so two nodes claiming
/// at once get different rows; SQLite transactions are exclusive anyway.
public struct MailOutboxRepository: Sendable {
    /// One message in the outbox.
    public struct Mail: Sendable, Hashable {
        public enum State: String, Sendable, CaseIterable { case pending, sending, sent, failed }

        public let id: UUID
        public let template: String
        public let dedupeKey: String?
        public let toAddress: String
        public let toName: String
        public let subject: String
        public let textBody: String
        public let htmlBody: String
        public let messageID: String?
        public let state: State
        public let attempts: Int
        public let nextAttemptAt: Date
        public let claimedBy: String?
        public let claimToken: Int64
        public let leaseExpiresAt: Date?
        public let lastError: String?
        public let createdAt: Date
        public let sentAt: Date?
        public let failedAt: Date?
        /// What to attach at send time (migration 501), e.g. `invoice-pdf:<uuid>`; read by
        /// SteadfastMail's `MailAttachmentRequest`.
        public let attachment: String?
    }

    /// A new message, as the outbox writes it.
    public struct NewMail: Sendable {
        public var template: String
        public var dedupeKey: String?
        public var toAddress: String
        public var toName: String
        public var subject: String
        public var textBody: String
        public var htmlBody: String
        /// What delivery attaches when it sends the message (the stored request, never bytes).
        public var attachment: String?

        public init(template: String, dedupeKey: String?, toAddress: String, toName: String, subject: String, textBody: String, htmlBody: String, attachment: String? = nil) {
            self.template = template
            self.dedupeKey = dedupeKey
            self.toAddress = toAddress
            self.toName = toName
            self.subject = subject
            self.textBody = textBody
            self.htmlBody = htmlBody
            self.attachment = attachment
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Inserts a pending message; `nil` when a message with the same dedupe key already exists.
    public func insert(_ mail: NewMail, id: UUID = UUID(), now: Date) async throws -> UUID? {
        try await db.first("""
            INSERT INTO mail_outbox (id, template, dedupe_key, to_address, to_name, subject, text_body, html_body, attachment, state, attempts, next_attempt_at, claim_token, created_at)
            VALUES (\(id), \(mail.template), \(mail.dedupeKey), \(mail.toAddress), \(mail.toName), \(mail.subject), \(mail.textBody), \(mail.htmlBody), \(mail.attachment), 'pending', 0, \(now), 0, \(now))
            ON CONFLICT (dedupe_key) DO NOTHING RETURNING id
            """).map { try $0.uuid("id") }
    }

    /// Claims the oldest due message: a pending one whose retry time has come, or one left in
    /// `sending` by a holder whose lease has run out. Sets its Message-ID if it has none yet
    /// (`newMessageID`, used only on the first claim), counts the attempt, and returns the row.
    /// Must run inside a transaction.
    public func claimNext(node: String, now: Date, lease: Duration, newMessageID: String) async throws -> Mail? {
        let expires = now + lease
        let lock: SQL = db.dialect == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        let due: SQL = "state IN ('pending', 'sending') AND next_attempt_at <= \(now) AND (state = 'pending' OR lease_expires_at <= \(now))"
        // The update repeats the condition, so a row another claim took in between (impossible
        // with the row lock, but cheap to rule out) is not claimed twice; then the next one is tried.
        for _ in 0..<5 {
            guard let row = try await db.first("SELECT id FROM mail_outbox WHERE \(due) ORDER BY next_attempt_at, created_at LIMIT 1 \(lock)") else {
                return nil
            }
            let id = try row.uuid("id")
            if let claimed = try await db.first("""
                UPDATE mail_outbox SET state = 'sending', claimed_by = \(node), claim_token = claim_token + 1,
                    lease_expires_at = \(expires), attempts = attempts + 1, message_id = COALESCE(message_id, \(newMessageID))
                WHERE id = \(id) AND \(due) RETURNING *
                """).map(Self.mail) {
                return claimed
            }
        }
        return nil
    }

    /// Extends a held claim's lease to `until` (after a slow step before sending, such as making
    /// an attachment); `false` if the claim was lost meanwhile: then the holder must not send.
    public func renewLease(id: UUID, claimToken: Int64, until: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE mail_outbox SET lease_expires_at = \(until)
            WHERE id = \(id) AND claim_token = \(claimToken) AND state = 'sending' RETURNING id
            """)).isEmpty
    }

    /// Marks a claimed message sent; `false` if the claim was lost (another node holds it now).
    public func markSent(id: UUID, claimToken: Int64, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE mail_outbox SET state = 'sent', sent_at = \(now), lease_expires_at = NULL, last_error = NULL
            WHERE id = \(id) AND claim_token = \(claimToken) AND state = 'sending' RETURNING id
            """)).isEmpty
    }

    /// Puts a claimed message back to wait until `retryAt` after a temporary failure.
    public func markRetry(id: UUID, claimToken: Int64, retryAt: Date, error: String) async throws -> Bool {
        !(try await db.query("""
            UPDATE mail_outbox SET state = 'pending', next_attempt_at = \(retryAt), lease_expires_at = NULL, last_error = \(Self.clip(error))
            WHERE id = \(id) AND claim_token = \(claimToken) AND state = 'sending' RETURNING id
            """)).isEmpty
    }

    /// Marks a claimed message failed for good (a permanent refusal, or too many attempts).
    public func markFailed(id: UUID, claimToken: Int64, error: String, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE mail_outbox SET state = 'failed', failed_at = \(now), lease_expires_at = NULL, last_error = \(Self.clip(error))
            WHERE id = \(id) AND claim_token = \(claimToken) AND state = 'sending' RETURNING id
            """)).isEmpty
    }

    /// Staff: queue a failed message again (same row, same Message-ID).
    public func requeueFailed(id: UUID, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE mail_outbox SET state = 'pending', next_attempt_at = \(now), failed_at = NULL, attempts = 0
            WHERE id = \(id) AND state = 'failed' RETURNING id
            """)).isEmpty
    }

    public func find(id: UUID) async throws -> Mail? {
        try await db.first("SELECT * FROM mail_outbox WHERE id = \(id)").map(Self.mail)
    }

    /// What the staff outbox list can be sorted by (the allow-list).
    public static let sortColumns = SortableColumns([
        .init("created", "created_at", first: .desc), .init("to", "to_address"), .init("subject", "LOWER(subject)"), .init("template", "template"),
        .init("state", "state"), .init("attempts", "attempts", first: .desc),
    ], default: ListSort("created", .desc), tieBreaker: "id")

    /// Messages, newest first unless `sort` says otherwise, optionally in one state.
    public func list(state: Mail.State?, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Mail] {
        let filter: SQL = state.map { "WHERE state = \($0.rawValue)" } ?? ""
        return try await db.query("SELECT * FROM mail_outbox \(filter) ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)").map(Self.mail)
    }

    /// How many messages are in each state.
    public func counts() async throws -> [Mail.State: Int] {
        var result: [Mail.State: Int] = [:]
        for row in try await db.query("SELECT state, COUNT(*) AS n FROM mail_outbox GROUP BY state") {
            if let state = Mail.State(rawValue: try row.string("state")) { result[state] = Int(try row.int("n")) }
        }
        return result
    }

    static func clip(_ text: String) -> String { String(text.prefix(500)) }

    static func mail(_ row: SQLRow) throws -> Mail {
        Mail(
            id: try row.uuid("id"), template: try row.string("template"), dedupeKey: try row.optionalString("dedupe_key"),
            toAddress: try row.string("to_address"), toName: try row.string("to_name"), subject: try row.string("subject"),
            textBody: try row.string("text_body"), htmlBody: try row.string("html_body"), messageID: try row.optionalString("message_id"),
            state: Mail.State(rawValue: try row.string("state")) ?? .pending, attempts: Int(try row.int("attempts")),
            nextAttemptAt: try row.date("next_attempt_at"), claimedBy: try row.optionalString("claimed_by"), claimToken: try row.int("claim_token"),
            leaseExpiresAt: try row.optionalDate("lease_expires_at"), lastError: try row.optionalString("last_error"),
            createdAt: try row.date("created_at"), sentAt: try row.optionalDate("sent_at"), failedAt: try row.optionalDate("failed_at"),
            attachment: try row.optionalString("attachment")
        )
    }
}

/// Staff overrides of the mail templates (`mail_templates`).
public struct MailTemplateRepository: Sendable {
    public struct Override: Sendable, Hashable {
        public let key: String
        public let subject: String
        public let textBody: String
        public let htmlBody: String
        public let updatedAt: Date
        public let updatedBy: UUID?
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func find(key: String) async throws -> Override? {
        try await db.first("SELECT * FROM mail_templates WHERE template_key = \(key)").map(Self.override)
    }

    public func all() async throws -> [Override] {
        try await db.query("SELECT * FROM mail_templates ORDER BY template_key").map(Self.override)
    }

    public func save(key: String, subject: String, textBody: String, htmlBody: String, by staffID: UUID?, now: Date) async throws {
        try await db.query("""
            INSERT INTO mail_templates (template_key, subject, text_body, html_body, updated_at, updated_by)
            VALUES (\(key), \(subject), \(textBody), \(htmlBody), \(now), \(staffID))
            ON CONFLICT (template_key) DO UPDATE SET subject = excluded.subject, text_body = excluded.text_body,
                html_body = excluded.html_body, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """)
    }

    /// Removes an override (the default applies again); `false` if there was none.
    public func delete(key: String) async throws -> Bool {
        !(try await db.query("DELETE FROM mail_templates WHERE template_key = \(key) RETURNING template_key")).isEmpty
    }

    static func override(_ row: SQLRow) throws -> Override {
        Override(
            key: try row.string("template_key"), subject: try row.string("subject"), textBody: try row.string("text_body"),
            htmlBody: try row.string("html_body"), updatedAt: try row.date("updated_at"), updatedBy: try row.optionalUUID("updated_by")
        )
    }
}
