import Foundation

/// What a message asks to have attached when it is sent (column `mail_outbox.attachment`,
/// migration 501). The outbox row records only the request — never the bytes — so enqueueing
/// stays inside the event's transaction without rendering anything, and any node's delivery can
/// make the attachment at send time (docs/mail.md, "Attachments").
public enum MailAttachmentRequest: Sendable, Hashable {
    /// The invoice's PDF, as the invoice stands when the mail is sent.
    case invoicePDF(UUID)

    /// The stored form: `invoice-pdf:<uuid>`.
    public var stored: String {
        switch self {
        case .invoicePDF(let id): "invoice-pdf:" + id.uuidString.lowercased()
        }
    }

    /// Reads the stored form; `nil` for text this version does not know.
    public init?(stored: String) {
        guard stored.hasPrefix("invoice-pdf:"), let id = UUID(uuidString: String(stored.dropFirst("invoice-pdf:".count))) else { return nil }
        self = .invoicePDF(id)
    }
}

/// A file attached to a message: sent as a base64 MIME part.
public struct MailAttachment: Sendable, Hashable {
    /// A plain ASCII file name (letters, digits, `.`, `-`, `_`); anything else becomes `-`.
    public let filename: String
    /// `type/subtype`, e.g. `application/pdf`.
    public let contentType: String
    public let data: [UInt8]

    public init(filename: String, contentType: String, data: [UInt8]) {
        let safe = String(filename.prefix(100).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") ? $0 : "-" })
        self.filename = safe.isEmpty ? "attachment" : safe
        self.contentType = contentType
        self.data = data
    }
}

/// Makes the attachments messages ask for, at send time (the node gives delivery one: invoice
/// PDFs come from the same renderer as `GET /invoices/{id}/pdf`).
///
/// One requirement per kind of request, each taking its plain values, rather than one taking a
/// ``MailAttachmentRequest``: with the enum as the parameter, Swift 6.3.1's optimizer compiled
/// the node's source and its protocol witness so that they lost an incoming argument (`self`,
/// then the result's address) across their first suspension, and a release node crashed in the
/// mail job (docs/mail.md, "Attachments"). ``MailDelivery`` reads the request.
public protocol MailAttachmentSource: Sendable {
    /// The invoice's PDF, or ``MailAttachmentUnavailable``: temporary (the renderer failed or
    /// is busy: the message is retried like a 4xx) or permanent (the invoice is gone: it fails).
    func invoicePDF(id: UUID) async throws -> MailAttachment
}

/// An attachment could not be made.
public struct MailAttachmentUnavailable: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// True when trying again cannot help (what it names does not exist).
    public let isPermanent: Bool

    public init(_ description: String, permanent: Bool) {
        self.description = description
        self.isPermanent = permanent
    }
}

/// No source on this process (e.g. an operator command): a message with an attachment waits
/// for a node that has one, as after any temporary failure.
public struct NoMailAttachmentSource: MailAttachmentSource {
    public init() {}

    public func invoicePDF(id: UUID) async throws -> MailAttachment {
        throw MailAttachmentUnavailable("this process cannot make attachments (\(MailAttachmentRequest.invoicePDF(id).stored))", permanent: false)
    }
}
