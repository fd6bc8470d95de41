import Foundation
import Mustache

/// The events that send mail, each with its template (docs/mail.md lists the values each gets).
public enum MailTemplateKey: String, Sendable, CaseIterable, Codable {
    case invoiceIssued = "invoice_issued"
    case paymentReceived = "payment_received"
    case paymentFailed = "payment_failed"
    case refundIssued = "refund_issued"
    case invoiceOverdue = "invoice_overdue"
    case serviceSuspended = "service_suspended"
    case ticketOpened = "ticket_opened"
    case ticketAnswered = "ticket_answered"
    case ticketClosed = "ticket_closed"
    case passwordReset = "password_reset"
    case emailVerification = "email_verification"
    case staffInvite = "staff_invite"
    case clientUserInvite = "client_user_invite"

    /// The values the event passes to its template (shown to staff editing it).
    public var variables: [String] {
        switch self {
        case .invoiceIssued: ["client_name", "invoice_number", "amount", "due_date", "invoice_url"]
        case .paymentReceived: ["client_name", "invoice_number", "amount", "gateway", "balance_due"]
        case .paymentFailed: ["client_name", "invoice_number", "amount", "card", "reason", "next_attempt", "invoice_url"]
        case .refundIssued: ["client_name", "invoice_number", "amount", "to_credit"]
        case .invoiceOverdue: ["client_name", "invoice_number", "due_date", "days_overdue", "balance_due", "invoice_url"]
        case .serviceSuspended: ["client_name", "service_name", "reason"]
        case .ticketOpened: ["client_name", "ticket_number", "ticket_subject", "department", "message"]
        case .ticketAnswered: ["client_name", "ticket_number", "ticket_subject", "staff_name", "message"]
        case .ticketClosed: ["client_name", "ticket_number", "ticket_subject"]
        case .passwordReset: ["client_name", "reset_url", "expires_in"]
        case .emailVerification: ["client_name", "email", "verify_url", "expires_in"]
        case .staffInvite: ["staff_name", "invited_by", "set_password_url", "expires_in"]
        case .clientUserInvite: ["user_name", "client_name", "invited_by", "permissions", "accept_url", "expires_in"]
        }
    }
}

/// One template's three parts, as Mustache source text.
public struct MailTemplateSource: Sendable, Hashable {
    public var subject: String
    public var textBody: String
    public var htmlBody: String

    public init(subject: String, textBody: String, htmlBody: String) {
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
    }
}

/// A rendered message: what the outbox stores.
public struct RenderedMail: Sendable, Hashable {
    public let subject: String
    public let textBody: String
    public let htmlBody: String
}

/// Why a template cannot be used.
public struct MailTemplateError: Error, Sendable, CustomStringConvertible {
    /// `subject`, `text_body` or `html_body`.
    public let field: String
    public let message: String
    public var description: String { "\(field): \(message)" }
}

/// The default templates (files in `Sources/SteadfastMail/Templates`, one layout for every HTML
/// body) and the rendering: the subject and the plain-text body are not escaped (they are not
/// HTML); the HTML body escapes every `{{value}}`, and the subject is folded to one line.
public struct MailTemplates: Sendable {
    public let defaults: [MailTemplateKey: MailTemplateSource]
    let layout: String

    /// The templates shipped with Steadfast.
    public static let shipped: MailTemplates = {
        do { return try MailTemplates(directory: Bundle.module.url(forResource: "Templates", withExtension: nil)!) }
        catch { fatalError("the built-in mail templates are missing or broken: \(error)") }
    }()

    /// Reads `<key>.subject`, `<key>.txt`, `<key>.html` for every key, and `layout.html`.
    public init(directory: URL) throws {
        func read(_ name: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
        var defaults: [MailTemplateKey: MailTemplateSource] = [:]
        for key in MailTemplateKey.allCases {
            let source = MailTemplateSource(subject: try read("\(key.rawValue).subject"), textBody: try read("\(key.rawValue).txt"), htmlBody: try read("\(key.rawValue).html"))
            try Self.validate(source)
            defaults[key] = source
        }
        self.defaults = defaults
        self.layout = try read("layout.html")
        _ = try Self.compile(layout, field: "layout", escaping: true)
    }

    /// Checks that all three parts compile (used before staff overrides are saved).
    public static func validate(_ source: MailTemplateSource) throws {
        guard !source.subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw MailTemplateError(field: "subject", message: "must not be empty")
        }
        for (field, text, limit) in [("subject", source.subject, 1_000), ("text_body", source.textBody, 100_000), ("html_body", source.htmlBody, 200_000)] {
            guard text.utf8.count <= limit else { throw MailTemplateError(field: field, message: "longer than \(limit) bytes") }
            _ = try compile(text, field: field, escaping: field == "html_body")
        }
    }

    /// Renders `source` with `values`.
    public func render(_ source: MailTemplateSource, values: [String: String]) throws -> RenderedMail {
        let subject = try Self.compile(source.subject, field: "subject", escaping: false).render(values)
        let text = try Self.compile(source.textBody, field: "text_body", escaping: false).render(values)
        let content = try Self.compile(source.htmlBody, field: "html_body", escaping: true).render(values)
        let oneLineSubject = subject.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        var layoutValues = values
        layoutValues["subject"] = oneLineSubject
        var html = try Self.compile(layout, field: "layout", escaping: true).render(layoutValues.merging(["content": content]) { _, new in new })
        if html.isEmpty { html = content }
        return RenderedMail(subject: String(oneLineSubject.prefix(900)), textBody: text, htmlBody: html)
    }

    static func compile(_ text: String, field: String, escaping: Bool) throws -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: escaping ? text : "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw MailTemplateError(field: field, message: "not a valid Mustache template (\(error))")
        }
    }
}
