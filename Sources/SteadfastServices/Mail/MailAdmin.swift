import Foundation
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// What staff see and change of e-mail: the outbox (failed messages first of all, and a retry
/// for them) and the templates (a staff override per event, or the default file).
public struct MailAdmin: Sendable {
    /// One template as staff see it.
    public struct Template: Sendable {
        public let key: MailTemplateKey
        public let source: MailTemplateSource
        public let isOverridden: Bool
        public let updatedAt: Date?
    }

    let database: any SQLDatabase
    let clock: any WallClock
    let templates: MailTemplates

    public init(database: any SQLDatabase, clock: any WallClock, templates: MailTemplates = .shipped) {
        self.database = database
        self.clock = clock
        self.templates = templates
    }

    public func outbox(state: MailOutboxRepository.Mail.State?, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [MailOutboxRepository.Mail] {
        try await MailOutboxRepository(database).list(state: state, sort: sort, limit: limit, offset: offset)
    }

    public func counts() async throws -> [MailOutboxRepository.Mail.State: Int] {
        try await MailOutboxRepository(database).counts()
    }

    /// Queues a failed message again (same row and Message-ID); `false` if it is not failed.
    public func retry(id: UUID) async throws -> Bool {
        let now = clock.now()
        return try await database.transaction { tx in
            guard try await MailOutboxRepository(tx).requeueFailed(id: id, now: now) else { return false }
            try await AuditTrail.record(tx, .mailRetried, object: AuditObject("mail", id), before: ["state": "failed"], after: ["state": "pending"], now: now)
            return true
        }
    }

    public func allTemplates() async throws -> [Template] {
        let overrides = Dictionary(uniqueKeysWithValues: try await MailTemplateRepository(database).all().map { ($0.key, $0) })
        return MailTemplateKey.allCases.map { key in
            if let override = overrides[key.rawValue] {
                return Template(key: key, source: .init(subject: override.subject, textBody: override.textBody, htmlBody: override.htmlBody), isOverridden: true, updatedAt: override.updatedAt)
            }
            return Template(key: key, source: templates.defaults[key]!, isOverridden: false, updatedAt: nil)
        }
    }

    public func template(_ key: MailTemplateKey) async throws -> Template {
        try await allTemplates().first { $0.key == key }!
    }

    /// Saves a staff override after checking that it compiles (``MailTemplateError`` names the part).
    public func save(_ key: MailTemplateKey, _ source: MailTemplateSource, by staffID: UUID) async throws -> Template {
        try MailTemplates.validate(source)
        let before = try await template(key)
        let now = clock.now()
        try await database.transaction { tx in
            try await MailTemplateRepository(tx).save(
                key: key.rawValue, subject: source.subject, textBody: source.textBody, htmlBody: source.htmlBody, by: staffID, now: now
            )
            try await AuditTrail.record(
                tx, .mailTemplateSaved, object: AuditObject(rawType: "mail_template", id: key.rawValue),
                before: Self.fields(before.source), after: Self.fields(source), now: now
            )
        }
        return try await template(key)
    }

    /// Drops the override: the default file applies again.
    public func reset(_ key: MailTemplateKey) async throws {
        let now = clock.now()
        try await database.transaction { tx in
            // Nothing to reset (no override): nothing changed, nothing recorded.
            guard try await MailTemplateRepository(tx).delete(key: key.rawValue) else { return }
            try await AuditTrail.record(tx, .mailTemplateReset, object: AuditObject(rawType: "mail_template", id: key.rawValue), now: now)
        }
    }

    /// A template's parts as the audit trail records them.
    static func fields(_ source: MailTemplateSource) -> [String: String] {
        ["subject": source.subject, "text_body": source.textBody, "html_body": source.htmlBody]
    }

    /// What `template` renders to with its variables shown as `{{name}}`, for the edit page.
    public func preview(_ source: MailTemplateSource, key: MailTemplateKey) throws -> RenderedMail {
        try templates.render(source, values: Dictionary(uniqueKeysWithValues: key.variables.map { ($0, "{{\($0)}}") }))
    }
}
