import Foundation

/// A received message reduced to what the support desk needs (`steadfast mail pipe`).
public struct InboundMail: Sendable {
    public struct Attachment: Sendable, Hashable {
        public let filename: String
        public let contentType: String
        public let bytes: [UInt8]
    }

    /// The parsed message (for headers the policy reads).
    public let root: MIMEPart
    /// The sender's address from `From` (else `Sender`, else `Return-Path`), as written.
    public let from: String?
    public let fromName: String
    /// Where it was sent: `Delivered-To`, `X-Original-To`, `To`, `Cc`, in that order, without repeats.
    public let recipients: [String]
    /// The subject with encoded words decoded (one line).
    public let subject: String
    public let messageID: String?
    /// The plain-text body (the text/plain alternative, or the HTML one as text).
    public let text: String
    public let attachments: [Attachment]

    public init(parsing bytes: [UInt8]) throws {
        let root = try MIMEParser.parse(bytes)
        self.root = root
        let sender = (root.header("From") ?? root.header("Sender")).flatMap { Self.addresses(in: $0).first }
        let returnPath = root.header("Return-Path").flatMap { Self.addresses(in: $0).first }
        from = sender?.address ?? returnPath?.address
        fromName = sender?.name ?? ""
        var seen = Set<String>()
        var recipients: [String] = []
        for name in ["Delivered-To", "X-Original-To", "To", "Cc"] {
            for value in root.headers(named: name) {
                for address in Self.addresses(in: value) where seen.insert(address.address.lowercased()).inserted {
                    recipients.append(address.address)
                }
            }
        }
        self.recipients = recipients
        subject = EncodedWord.decode(root.header("Subject") ?? "").split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        messageID = root.header("Message-ID")
        var body: String?
        var attachments: [Attachment] = []
        Self.collect(root, body: &body, attachments: &attachments)
        text = (body ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        self.attachments = attachments
    }

    /// Walks the tree: the first readable text is the body; files become attachments.
    static func collect(_ part: MIMEPart, body: inout String?, attachments: inout [Attachment]) {
        if part.contentType == "multipart/alternative" {
            let plain = part.parts.first { $0.contentType == "text/plain" && !isAttachment($0) }
            let html = part.parts.first { $0.contentType == "text/html" && !isAttachment($0) }
            if body == nil, let chosen = plain ?? html {
                body = chosen.contentType == "text/html" ? HTMLText.plain(chosen.text) : chosen.text
                // Anything else in the alternative (rare: a nested related part) is not a file.
                return
            }
        }
        if !part.parts.isEmpty {
            for child in part.parts { collect(child, body: &body, attachments: &attachments) }
            return
        }
        if isAttachment(part) {
            let name = part.filename ?? (part.contentType == "message/rfc822" ? "message.eml" : "attachment.bin")
            attachments.append(Attachment(filename: name, contentType: part.contentType, bytes: part.body))
        } else if body == nil, part.contentType == "text/plain" {
            body = part.text
        } else if body == nil, part.contentType == "text/html" {
            body = HTMLText.plain(part.text)
        }
    }

    static func isAttachment(_ part: MIMEPart) -> Bool {
        if part.disposition?.value == "attachment" { return true }
        if part.filename != nil { return true }
        return !(part.contentType.hasPrefix("text/plain") || part.contentType.hasPrefix("text/html") || part.contentType.hasPrefix("multipart/"))
    }

    /// The mailboxes in an address-list header: `"Name" <a@b>, c@d, Name <e@f> (comment)`.
    public static func addresses(in header: String) -> [(name: String, address: String)] {
        var result: [(String, String)] = []
        var items: [String] = []
        var current = ""
        var quoted = false, angle = false, comment = 0
        for character in header {
            if !quoted, character == "(" { comment += 1; continue }
            if !quoted, character == ")", comment > 0 { comment -= 1; continue }
            if comment > 0 { continue }
            switch character {
            case "\"": quoted.toggle()
            case "<" where !quoted: angle = true
            case ">" where !quoted: angle = false
            case "," where !quoted && !angle:
                items.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        items.append(current)
        for item in items {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
                let address = trimmed[trimmed.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
                let name = EncodedWord.decode(trimmed[..<open].trimmingCharacters(in: .whitespaces)).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                if address.contains("@") { result.append((name, address)) }
            } else if trimmed.contains("@"), !trimmed.contains(" ") {
                result.append(("", trimmed))
            }
        }
        return result
    }
}

/// HTML reduced to plain text for a ticket message: scripts and styles dropped, block ends as
/// line breaks, tags removed, the common entities decoded. (The ticket shows it escaped anyway.)
enum HTMLText {
    static func plain(_ html: String) -> String {
        var text = html
        for tag in ["script", "style", "head"] {
            while let start = text.range(of: "<\(tag)", options: .caseInsensitive),
                  let end = text.range(of: "</\(tag)>", options: .caseInsensitive, range: start.upperBound..<text.endIndex) {
                text.removeSubrange(start.lowerBound..<end.upperBound)
            }
        }
        for pattern in ["<br>", "<br/>", "<br />", "</p>", "</div>", "</li>", "</tr>", "</h1>", "</h2>", "</h3>"] {
            text = text.replacingOccurrences(of: pattern, with: "\n", options: .caseInsensitive)
        }
        var out = ""
        var inTag = false
        for character in text {
            if character == "<" { inTag = true; continue }
            if character == ">" && inTag { inTag = false; continue }
            if !inTag { out.append(character) }
        }
        for (entity, value) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: value)
        }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var collapsed: [String] = []
        for line in lines where !(line.isEmpty && collapsed.last?.isEmpty == true) { collapsed.append(line) }
        return collapsed.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
