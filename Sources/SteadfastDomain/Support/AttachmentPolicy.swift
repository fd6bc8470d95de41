/// The rules a ticket attachment must pass: per-file and per-message size limits, a file-name
/// extension allow-list, and a content type sniffed from the bytes (never taken from the
/// client), which must agree with the extension.
public struct AttachmentPolicy: Sendable, Equatable {
    /// Largest single file, in bytes.
    public var maxFileSize: Int64
    /// Largest total of one message's files, in bytes.
    public var maxMessageSize: Int64
    /// Most files on one message.
    public var maxFilesPerMessage: Int
    /// Accepted extensions, lower case without the dot (`pdf`, `png`, `log`).
    public var allowedExtensions: Set<String>

    public static let defaultExtensions: [String] = ["txt", "log", "csv", "json", "pdf", "png", "jpg", "jpeg", "gif", "zip", "gz"]

    public init(maxFileSize: Int64, maxMessageSize: Int64, maxFilesPerMessage: Int = 10, allowedExtensions: some Sequence<String>) {
        self.maxFileSize = maxFileSize
        self.maxMessageSize = maxMessageSize
        self.maxFilesPerMessage = maxFilesPerMessage
        self.allowedExtensions = Set(allowedExtensions.map { $0.lowercased() })
    }

    /// The file name's extension, lower case (`""` when it has none).
    public static func fileExtension(of filename: String) -> String {
        guard let dot = filename.lastIndex(of: "."), dot != filename.startIndex else { return "" }
        return String(filename[filename.index(after: dot)...]).lowercased()
    }

    /// Checks a file's declared size and name before any byte is stored.
    public func check(filename: String, size: Int64) throws(SupportError) {
        guard size >= 0 else { throw .invalid("the file size must not be negative", field: "size") }
        guard size <= maxFileSize else {
            throw SupportError(.tooLarge, "each attachment may be at most \(maxFileSize) bytes; '\(filename)' has \(size)", field: "attachments")
        }
        let ext = Self.fileExtension(of: filename)
        guard allowedExtensions.contains(ext) else {
            let allowed = allowedExtensions.sorted().joined(separator: ", ")
            throw SupportError(.unsupportedType, "files of type '.\(ext)' are not accepted; allowed: \(allowed)", field: "filename")
        }
    }

    /// Checks one message's files together: how many, and their total size (checked arithmetic).
    public func check(messageFileSizes sizes: [Int64]) throws(SupportError) {
        guard sizes.count <= maxFilesPerMessage else {
            throw .invalid("a message may have at most \(maxFilesPerMessage) attachments", field: "attachments")
        }
        var total: Int64 = 0
        for size in sizes {
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow, sum <= maxMessageSize else {
                throw SupportError(.tooLarge, "one message's attachments may be at most \(maxMessageSize) bytes in all", field: "attachments")
            }
            total = sum
        }
    }

    /// The content type of `prefix` (the file's first bytes, 512 are enough) for a file named
    /// `filename`, or 415 when the bytes are not what the extension says (an executable named
    /// `.png`, a binary named `.txt`).
    public func sniffedContentType(filename: String, prefix: some Collection<UInt8>) throws(SupportError) -> String {
        let ext = Self.fileExtension(of: filename)
        let sniffed = ContentSniffer.sniff(Array(prefix.prefix(512)))
        guard let expected = ContentSniffer.expectedType(forExtension: ext) else {
            // An allowed extension with no rule of its own: anything but a program.
            guard sniffed != "application/x-executable" else {
                throw SupportError(.unsupportedType, "'\(filename)' is a program; programs are not accepted", field: "attachments")
            }
            return "application/octet-stream"
        }
        guard sniffed == expected || (expected == "text/plain" && sniffed == "text/plain") else {
            throw SupportError(.unsupportedType, "the content of '\(filename)' is not a .\(ext) file (it looks like \(sniffed))", field: "attachments")
        }
        return expected == "text/plain" ? Self.textType(ext) : expected
    }

    static func textType(_ ext: String) -> String {
        switch ext {
        case "csv": "text/csv; charset=utf-8"
        case "json": "application/json"
        default: "text/plain; charset=utf-8"
        }
    }
}

/// Recognises a file's type from its first bytes (magic numbers), the few types support accepts.
public enum ContentSniffer {
    /// `image/png`, `image/jpeg`, `image/gif`, `application/pdf`, `application/zip`,
    /// `application/gzip`, `application/x-executable` (ELF, PE, Mach-O binaries),
    /// `text/plain` (valid UTF-8 without NUL or other control bytes but tab, CR, LF, FF),
    /// else `application/octet-stream`.
    public static func sniff(_ bytes: [UInt8]) -> String {
        func starts(_ magic: [UInt8]) -> Bool { bytes.count >= magic.count && Array(bytes.prefix(magic.count)) == magic }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return "application/zip" }
        if starts([0x1F, 0x8B]) { return "application/gzip" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) || starts([0x4D, 0x5A]) || starts([0xCF, 0xFA, 0xED, 0xFE]) || starts([0xFE, 0xED, 0xFA, 0xCF]) {
            return "application/x-executable"
        }
        return isText(bytes) ? "text/plain" : "application/octet-stream"
    }

    /// The sniffed type a file with extension `ext` must have; nil for extensions with no rule.
    public static func expectedType(forExtension ext: String) -> String? {
        switch ext {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "pdf": "application/pdf"
        case "zip": "application/zip"
        case "gz": "application/gzip"
        case "txt", "log", "csv", "json", "md", "conf", "ini", "yaml", "yml", "xml": "text/plain"
        default: nil
        }
    }

    /// UTF-8 (a multi-byte sequence cut at the end of the sample is allowed) with no control
    /// bytes but tab, LF, FF and CR.
    static func isText(_ bytes: [UInt8]) -> Bool {
        if bytes.contains(where: { $0 < 0x20 && ![0x09, 0x0A, 0x0C, 0x0D].contains($0) || $0 == 0x7F }) { return false }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return false
            }
            if index + length > bytes.count { return bytes.count >= 512 }
            for continuation in bytes[(index + 1)..<(index + length)] where continuation & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }
}
