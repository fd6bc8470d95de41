/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more lines of text.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public let code: Int
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositiveCompletion: Bool { (200...299).contains(code) }
    public var isPositiveIntermediate: Bool { (300...399).contains(code) }
    public var isTransientFailure: Bool { (400...499).contains(code) }
    public var isPermanentFailure: Bool { (500...599).contains(code) }

    /// The reply as one line, for errors and logs (server text is bounded and kept printable).
    public var description: String {
        let text = lines.joined(separator: " / ")
        return "\(code) " + String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init).prefix(300))
    }
}

/// Why the server's bytes are not SMTP replies.
public struct SMTPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { "SMTP protocol error: \(message)" }
}

/// Turns the bytes an SMTP server sends into replies. Pure: bytes in, replies out.
///
/// A reply line is `ddd` then `-` (more lines follow), a space or nothing (the last line), then
/// text, ending in CRLF (a bare LF is accepted). Every line of a multi-line reply must carry the
/// same code. Lines are bounded (``maxLineLength``) and so are the lines of one reply
/// (``maxLines``), so a hostile server cannot make the client buffer without limit.
public struct SMTPReplyParser: Sendable {
    public static let maxLineLength = 4_096
    public static let maxLines = 200

    var buffer: [UInt8] = []
    var pendingCode: Int?
    var pendingLines: [String] = []

    public init() {}

    /// Adds received bytes and returns every reply they complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(SMTPProtocolError) -> [SMTPReply] {
        buffer.append(contentsOf: bytes)
        var replies: [SMTPReply] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let reply = try accept(line) { replies.append(reply) }
        }
        guard buffer.count <= Self.maxLineLength else { throw SMTPProtocolError(message: "reply line longer than \(Self.maxLineLength) bytes") }
        return replies
    }

    /// Whether a reply has started but not finished (for a connection that closes mid-reply).
    public var isMidReply: Bool { pendingCode != nil || !buffer.isEmpty }

    mutating func accept(_ line: [UInt8]) throws(SMTPProtocolError) -> SMTPReply? {
        guard line.count <= Self.maxLineLength else { throw SMTPProtocolError(message: "reply line longer than \(Self.maxLineLength) bytes") }
        guard line.count >= 3, line[0..<3].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0])
        else { throw SMTPProtocolError(message: "reply line does not start with a code 2xx-5xx") }
        let code = Int(line[0] - 48) * 100 + Int(line[1] - 48) * 10 + Int(line[2] - 48)
        let separator: UInt8? = line.count > 3 ? line[3] : nil
        guard separator == nil || separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPProtocolError(message: "reply code \(code) followed by neither space nor '-'")
        }
        if let pendingCode, pendingCode != code { throw SMTPProtocolError(message: "multi-line reply changed code from \(pendingCode) to \(code)") }
        let text = line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : ""
        pendingLines.append(text)
        guard pendingLines.count <= Self.maxLines else { throw SMTPProtocolError(message: "reply longer than \(Self.maxLines) lines") }
        if separator == UInt8(ascii: "-") {
            pendingCode = code
            return nil
        }
        defer { pendingCode = nil; pendingLines = [] }
        return SMTPReply(code: code, lines: pendingLines)
    }
}
