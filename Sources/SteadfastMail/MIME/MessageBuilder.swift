import Foundation

/// A mailbox in a header: an address and an optional display name.
public struct Mailbox: Sendable, Hashable {
    public let address: String
    public let name: String

    public init(address: String, name: String = "") {
        self.address = address
        self.name = name
    }
}

/// Builds RFC 5322 messages with MIME (RFC 2045–2047): a multipart/alternative of plain text and
/// HTML, both UTF-8 quoted-printable; non-ASCII header text as encoded words; CRLF line ends; no
/// line longer than 78 characters. Pure: the date, Message-ID and boundary are passed in.
public enum MessageBuilder {
    public struct Message: Sendable {
        public var from: Mailbox
        public var to: Mailbox
        public var subject: String
        public var textBody: String
        public var htmlBody: String?
        public var messageID: String
        public var date: Date
        /// Extra headers (name, value), e.g. `Auto-Submitted`; values are encoded and folded.
        public var extraHeaders: [(String, String)]
        /// Files sent with the message (the whole becomes `multipart/mixed`).
        public var attachments: [MailAttachment]

        public init(
            from: Mailbox, to: Mailbox, subject: String, textBody: String, htmlBody: String?, messageID: String, date: Date,
            extraHeaders: [(String, String)] = [], attachments: [MailAttachment] = []
        ) {
            self.from = from
            self.to = to
            self.subject = subject
            self.textBody = textBody
            self.htmlBody = htmlBody
            self.messageID = messageID
            self.date = date
            self.extraHeaders = extraHeaders
            self.attachments = attachments
        }
    }

    /// The whole message as bytes with CRLF line ends. `boundary` separates the parts.
    public static func build(_ message: Message, boundary: String) -> [UInt8] {
        var out = ""
        func header(_ name: String, _ value: String) { out += fold(name + ": " + value) + "\r\n" }
        header("From", mailbox(message.from))
        header("To", mailbox(message.to))
        header("Subject", encodeUnstructured(message.subject, offset: "Subject: ".count))
        header("Date", rfc5322Date(message.date))
        header("Message-ID", message.messageID)
        header("MIME-Version", "1.0")
        for (name, value) in message.extraHeaders { header(name, encodeUnstructured(value, offset: name.count + 2)) }
        guard !message.attachments.isEmpty else {
            out += body(message, boundary: boundary)
            return Array(out.utf8)
        }
        // multipart/mixed: the body (text, or text and HTML) first, then each file in base64.
        let mixed = "mixed" + boundary
        header("Content-Type", "multipart/mixed; boundary=\"\(mixed)\"")
        out += "\r\n"
        out += "This is a multi-part message in MIME format.\r\n"
        out += "--\(mixed)\r\n" + body(message, boundary: boundary)
        for file in message.attachments {
            out += "--\(mixed)\r\n"
            out += "Content-Type: \(file.contentType); name=\"\(file.filename)\"\r\n"
            out += "Content-Disposition: attachment; filename=\"\(file.filename)\"\r\n"
            out += "Content-Transfer-Encoding: base64\r\n\r\n"
            out += base64Lines(file.data)
        }
        out += "--\(mixed)--\r\n"
        return Array(out.utf8)
    }

    /// The body's headers (`Content-Type`, ...), a blank line and the body itself: the
    /// multipart/alternative of text and HTML, or the text alone.
    static func body(_ message: Message, boundary: String) -> String {
        var out = ""
        func header(_ name: String, _ value: String) { out += fold(name + ": " + value) + "\r\n" }
        if let html = message.htmlBody {
            header("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
            out += "\r\n"
            out += "This is a multi-part message in MIME format.\r\n"
            for (type, body) in [("text/plain", message.textBody), ("text/html", html)] {
                out += "--\(boundary)\r\n"
                out += "Content-Type: \(type); charset=utf-8\r\n"
                out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                out += QuotedPrintable.encode(Array(body.utf8)) + "\r\n"
            }
            out += "--\(boundary)--\r\n"
        } else {
            header("Content-Type", "text/plain; charset=utf-8")
            header("Content-Transfer-Encoding", "quoted-printable")
            out += "\r\n" + QuotedPrintable.encode(Array(message.textBody.utf8)) + "\r\n"
        }
        return out
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8), each ended by CRLF.
    static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Data(bytes).base64EncodedString()
        var out = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            out += String(encoded[index..<end]) + "\r\n"
            index = end
        }
        return out
    }

    /// `"Name" <address>` (or an encoded word for a non-ASCII name), or the bare `<address>`.
    static func mailbox(_ mailbox: Mailbox) -> String {
        let name = mailbox.name.filter { !$0.isNewline && $0 != "\0" }
        guard !name.isEmpty else { return "<\(mailbox.address)>" }
        if name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(mailbox.address)>"
        }
        return EncodedWord.encode(name).joined(separator: " ") + " <\(mailbox.address)>"
    }

    /// Header text: kept as is when printable ASCII, else one or more encoded words. Line breaks
    /// in the value become spaces (a value can never start a new header).
    static func encodeUnstructured(_ value: String, offset: Int) -> String {
        let flat = value.map { $0.isNewline ? " " : String($0) }.joined().filter { $0 != "\0" }
        if flat.unicodeScalars.allSatisfy({ $0.isASCII && ($0.value >= 0x20 && $0.value < 0x7F || $0 == "\t") }),
           !flat.contains("=?") {
            return flat
        }
        return EncodedWord.encode(flat).joined(separator: "\r\n ")
    }

    /// Folds a header line at spaces so no line exceeds 78 characters where a space allows it
    /// (RFC 5322 §2.2.3). Existing CRLF-space folds are kept.
    static func fold(_ line: String) -> String {
        var result: [String] = []
        for segment in line.components(separatedBy: "\r\n ") {
            var current = ""
            for word in segment.split(separator: " ", omittingEmptySubsequences: false) {
                if current.isEmpty { current = String(word); continue }
                if current.count + 1 + word.count > 78 {
                    result.append(current)
                    current = String(word)
                } else {
                    current += " " + word
                }
            }
            result.append(current)
        }
        return result.joined(separator: "\r\n ")
    }

    /// `Sat, 05 Dec 2026 21:53:50 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}

/// Quoted-printable (RFC 2045 §6.7).
public enum QuotedPrintable {
    /// Encodes bytes; line breaks in the input (LF or CRLF) become CRLF hard breaks, every output
    /// line is at most 76 characters, trailing spaces and tabs are encoded.
    public static func encode(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var lines: [[UInt8]] = [[]]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") { lines.append([]) }
            else if byte == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { lines.append([]); index += 1 }
            else { lines[lines.count - 1].append(byte) }
            index += 1
        }
        var out: [UInt8] = []
        for (number, line) in lines.enumerated() {
            if number > 0 { out.append(contentsOf: [13, 10]) }
            var length = 0
            for (position, byte) in line.enumerated() {
                let isLast = position == line.count - 1
                var token: [UInt8]
                if (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast) {
                    token = [byte]
                } else {
                    token = [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                }
                // Leave room for the soft break "=" unless this token ends the line.
                let limit = isLast ? 76 : 75
                if length + token.count > limit {
                    out.append(contentsOf: [UInt8(ascii: "="), 13, 10])
                    length = 0
                }
                out.append(contentsOf: token)
                length += token.count
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes quoted-printable text to bytes; soft breaks vanish, malformed escapes stay as written.
    public static func decode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func hexValue(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): b - 48
            case UInt8(ascii: "A")...UInt8(ascii: "F"): b - 55
            case UInt8(ascii: "a")...UInt8(ascii: "f"): b - 87
            default: nil
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                // Soft line break: "=" followed by optional whitespace then CRLF or LF.
                var look = index + 1
                while look < bytes.count, bytes[look] == 32 || bytes[look] == 9 { look += 1 }
                if look < bytes.count, bytes[look] == 13, look + 1 < bytes.count, bytes[look + 1] == 10 { index = look + 2; continue }
                if look < bytes.count, bytes[look] == 10 { index = look + 1; continue }
                if look == bytes.count { index = look; continue }
                if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        return out
    }
}
