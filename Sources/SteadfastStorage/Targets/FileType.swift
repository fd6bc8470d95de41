/// The kinds of files the portal keeps, as WHMCS separates them; each is routed to a storage
/// target by ``StorageRegistry`` and can be migrated on its own.
public enum FileType: String, CaseIterable, Codable, Sendable, Hashable {
    /// Files attached to support tickets and replies.
    case ticketAttachments = "ticket_attachments"
    /// Files offered in the download centre.
    case downloads
    /// Files an admin attaches to a client's account.
    case clientFiles = "client_files"
    /// Attachments of sent and received e-mail.
    case emailAttachments = "email_attachments"
    /// Files attached to e-mail templates.
    case templateAttachments = "template_attachments"
    /// Files of the project-management module.
    case projectFiles = "project_files"

    /// The key prefix used for this type when the configuration names none (`downloads/`).
    public var defaultPrefix: String { rawValue + "/" }
}
