import Foundation
import SteadfastDomain

extension ConfigKey {
    public static let supportAutoCloseAfter = ConfigKey("support.auto_close_after", default: "72h", "Tickets left answered this long are closed by the support-auto-close job; 0 never closes them.")
    public static let supportAttachmentMaxSize = ConfigKey("support.attachment_max_size", default: "10MiB", "Largest single ticket attachment (413 above it); each upload is held in memory while its type is checked.")
    public static let supportMessageAttachmentsMaxSize = ConfigKey("support.message_attachments_max_size", default: "25MiB", "Largest total of one ticket message's attachments (413 above it).")
    public static let supportAttachmentsPerMessage = ConfigKey("support.attachments_per_message", default: "10", "Most attachments on one ticket message.")
    public static let supportAttachmentExtensions = ConfigKey("support.attachment_extensions", default: AttachmentPolicy.defaultExtensions.joined(separator: ","), "File-name extensions accepted for ticket attachments (415 otherwise); the content must match the extension.", isList: true)
    public static let supportDownloadMaxSize = ConfigKey("support.download_max_size", default: "512MiB", "Largest file staff may add to the downloads library (413 above it, nothing stored); uploads stream to storage, the HTML form's is held in memory.")
    public static let supportUploadLifetime = ConfigKey("support.upload_lifetime", default: "24h", "Uploaded attachments no ticket message references within this long are deleted (the support-uploads-expiry job).")
}

extension NodeConfiguration {
    /// The `support.*` settings (docs/support.md).
    public struct Support: Sendable {
        /// Zero: never.
        public var autoCloseAfter: Duration
        public var attachments: AttachmentPolicy
        public var uploadLifetime: Duration
        /// `support.download_max_size`: the largest file of the downloads library.
        public var downloadMaxSize: Int64
    }
}

extension NodeConfiguration.Support {
    init(_ reader: Reader) throws(ConfigError) {
        autoCloseAfter = try reader.duration(.supportAutoCloseAfter)
        let fileMax = try reader.byteSize(.supportAttachmentMaxSize, in: 1...(1 << 30))
        let messageMax = try reader.byteSize(.supportMessageAttachmentsMaxSize, in: 1...(1 << 32))
        guard messageMax >= fileMax else {
            throw reader.fail(.supportMessageAttachmentsMaxSize, "must be at least support.attachment_max_size")
        }
        let perMessage = try reader.int(.supportAttachmentsPerMessage, in: 1...100)
        var extensions: [String] = []
        for item in try reader.list(.supportAttachmentExtensions) {
            let ext = item.trimmingCharacters(in: .whitespaces).lowercased().drop(while: { $0 == "." })
            guard !ext.isEmpty, ext.count <= 16, ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw reader.fail(.supportAttachmentExtensions, "expected extensions such as pdf,png,log, got '\(item)'")
            }
            extensions.append(String(ext))
        }
        guard !extensions.isEmpty else { throw reader.fail(.supportAttachmentExtensions, "name at least one extension") }
        attachments = AttachmentPolicy(maxFileSize: Int64(fileMax), maxMessageSize: Int64(messageMax), maxFilesPerMessage: perMessage, allowedExtensions: extensions)
        uploadLifetime = try reader.duration(.supportUploadLifetime)
        guard uploadLifetime >= .seconds(60) else { throw reader.fail(.supportUploadLifetime, "must be at least 1m") }
        downloadMaxSize = Int64(try reader.byteSize(.supportDownloadMaxSize, in: 1...(1 << 40)))
    }
}
