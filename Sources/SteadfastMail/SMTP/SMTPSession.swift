import Foundation

/// How a message is handed to a server, decided before connecting.
public struct SMTPEnvelope: Sendable {
    /// The reverse path (`MAIL FROM`), a bare address.
    public var from: String
    /// The forward paths (`RCPT TO`), bare addresses.
    public var recipients: [String]
    /// The whole RFC 5322 message with CRLF line ends (not yet dot-stuffed).
    public var message: [UInt8]

    public init(from: String, recipients: [String], message: [UInt8]) {
        self.from = from
        self.recipients = recipients
        self.message = message
    }
}

/// The connection-level settings of a session.
public struct SMTPSessionSettings: Sendable {
    public enum TLSPolicy: String, Sendable {
        /// Refuse to go on unless the server offers STARTTLS and the upgrade succeeds.
        case required
        /// Upgrade when the server offers STARTTLS.
        case opportunistic
        /// Never upgrade.
        case never
    }

    public var heloName: String
    public var tls: TLSPolicy
    public var username: String?
    public var password: String?
    /// Whether credentials may be sent without TLS (only for a server on the loopback interface).
    public var allowPlaintextAuth: Bool

    public init(heloName: String, tls: TLSPolicy, username: String? = nil, password: String? = nil, allowPlaintextAuth: Bool = false) {
        self.heloName = heloName
        self.tls = tls
        self.username = username
        self.password = password
        self.allowPlaintextAuth = allowPlaintextAuth
    }
}

/// Why a delivery attempt failed: a reply from the server (its code decides permanent or not),
/// or a local/connection problem (always temporary).
public struct SMTPFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public let stage: String
    public let reply: SMTPReply?
    public let message: String

    /// A 5xx reply: retrying will not help.
    public var isPermanent: Bool { reply?.isPermanentFailure ?? false }

    public init(stage: String, reply: SMTPReply?, message: String) {
        self.stage = stage
        self.reply = reply
        self.message = message
    }

    public var description: String {
        if let reply { return "\(stage): \(reply)" }
        return "\(stage): \(message)"
    }
}

/// The client side of one SMTP transaction as a pure state machine (RFC 5321, 3207, 4954):
/// replies in, actions out. The I/O around it (``SMTPClient``) sends what it is told and feeds
/// back what the server answers, so every protocol decision is unit-tested without a socket.
///
/// greeting → EHLO → [STARTTLS → TLS → EHLO] → [AUTH PLAIN | AUTH LOGIN] → MAIL FROM → RCPT TO…
/// → DATA → message → QUIT.
public struct SMTPSession: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send this command line (CRLF is added by the caller's framing: the text has none).
        case send(String)
        /// Start TLS on the connection now, then report ``Event/tlsEstablished``.
        case startTLS
        /// Send the message body: already dot-stuffed and ending in `CRLF.CRLF`.
        case sendData([UInt8])
        /// The server accepted the message (its `250` reply to the data); then close.
        case delivered(SMTPReply)
        /// Give up: close the connection.
        case fail(SMTPFailure)
    }

    public enum Event: Sendable, Equatable {
        case reply(SMTPReply)
        case tlsEstablished
    }

    enum State: Sendable, Equatable {
        case greeting, ehlo(afterTLS: Bool), helo, startTLS, tlsHandshake, authPlain, authLoginUser, authLoginPassword
        case mailFrom, rcptTo(index: Int), data, body, done
    }

    let settings: SMTPSessionSettings
    let envelope: SMTPEnvelope
    var state: State = .greeting
    var isTLS = false
    /// Extensions the server advertised in its latest EHLO reply (upper-cased keywords).
    public private(set) var extensions: [String: String] = [:]

    public init(settings: SMTPSessionSettings, envelope: SMTPEnvelope) {
        self.settings = settings
        self.envelope = envelope
    }

    public var isFinished: Bool { state == .done }

    /// Handles one event and returns what to do next.
    public mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case (.tlsHandshake, .tlsEstablished):
            isTLS = true
            state = .ehlo(afterTLS: true)
            return .send("EHLO \(settings.heloName)")
        case (_, .tlsEstablished):
            return fail("tls", nil, "TLS came up when it was not asked for")
        case (.done, .reply):
            return fail("quit", nil, "reply after the session ended")
        case (let current, .reply(let reply)):
            return handle(reply, in: current)
        }
    }

    mutating func handle(_ reply: SMTPReply, in current: State) -> Action {
        switch current {
        case .greeting:
            guard reply.code == 220 else { return fail("greeting", reply) }
            state = .ehlo(afterTLS: false)
            return .send("EHLO \(settings.heloName)")
        case .ehlo(let afterTLS):
            guard reply.isPositiveCompletion else {
                // A server without ESMTP: HELO, unless something only EHLO can negotiate is needed.
                if !afterTLS, reply.code == 502 || reply.code == 500, settings.tls != .required, settings.username == nil {
                    state = .helo
                    return .send("HELO \(settings.heloName)")
                }
                return fail("ehlo", reply)
            }
            extensions = Self.extensions(of: reply)
            if !isTLS, settings.tls != .never, extensions["STARTTLS"] != nil {
                state = .startTLS
                return .send("STARTTLS")
            }
            if !isTLS, settings.tls == .required {
                return fail("starttls", nil, "the server does not offer STARTTLS, which mail.smtp_url requires")
            }
            return authenticateOrSend()
        case .helo:
            guard reply.isPositiveCompletion else { return fail("helo", reply) }
            return authenticateOrSend()
        case .startTLS:
            guard reply.code == 220 else {
                if settings.tls == .required { return fail("starttls", reply) }
                return authenticateOrSend()
            }
            state = .tlsHandshake
            return .startTLS
        case .tlsHandshake:
            return fail("tls", reply, "a reply arrived during the TLS handshake")
        case .authPlain, .authLoginPassword:
            guard reply.code == 235 else { return fail("auth", reply) }
            return mailFrom()
        case .authLoginUser:
            guard reply.code == 334 else { return fail("auth", reply) }
            state = .authLoginPassword
            return .send(Data((settings.password ?? "").utf8).base64EncodedString())
        case .mailFrom:
            guard reply.isPositiveCompletion else { return fail("mail from", reply) }
            state = .rcptTo(index: 0)
            return .send("RCPT TO:<\(envelope.recipients[0])>")
        case .rcptTo(let index):
            guard reply.isPositiveCompletion else { return fail("rcpt to", reply) }
            if index + 1 < envelope.recipients.count {
                state = .rcptTo(index: index + 1)
                return .send("RCPT TO:<\(envelope.recipients[index + 1])>")
            }
            state = .data
            return .send("DATA")
        case .data:
            guard reply.code == 354 else { return fail("data", reply) }
            state = .body
            return .sendData(Self.dotStuffed(envelope.message))
        case .body:
            guard reply.isPositiveCompletion else { return fail("message", reply) }
            state = .done
            return .delivered(reply)
        case .done:
            return fail("quit", reply, "reply after the session ended")
        }
    }

    mutating func authenticateOrSend() -> Action {
        guard let username = settings.username else { return mailFrom() }
        if !isTLS, !settings.allowPlaintextAuth {
            return fail("auth", nil, "refusing to send credentials without TLS (use ?starttls=required)")
        }
        let mechanisms = Set((extensions["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))
        if mechanisms.contains("PLAIN") {
            state = .authPlain
            let token = Data(([0] + Array(username.utf8) + [0] + Array((settings.password ?? "").utf8))).base64EncodedString()
            return .send("AUTH PLAIN \(token)")
        }
        if mechanisms.contains("LOGIN") {
            state = .authLoginUser
            return .send("AUTH LOGIN \(Data(username.utf8).base64EncodedString())")
        }
        return fail("auth", nil, "the server offers neither AUTH PLAIN nor AUTH LOGIN")
    }

    mutating func mailFrom() -> Action {
        guard !envelope.recipients.isEmpty else { return fail("rcpt to", nil, "no recipients") }
        state = .mailFrom
        let eightBit = envelope.message.contains { $0 >= 0x80 }
        let body = eightBit && extensions["8BITMIME"] != nil ? " BODY=8BITMIME" : ""
        return .send("MAIL FROM:<\(envelope.from)>\(body)")
    }

    mutating func fail(_ stage: String, _ reply: SMTPReply?, _ message: String = "") -> Action {
        state = .done
        return .fail(SMTPFailure(stage: stage, reply: reply, message: message.isEmpty ? (reply?.description ?? "failed") : message))
    }

    /// The EHLO keywords (first word of each line after the greeting line) with their parameters.
    static func extensions(of reply: SMTPReply) -> [String: String] {
        var result: [String: String] = [:]
        for line in reply.lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let keyword = parts.first else { continue }
            result[keyword.uppercased()] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    /// RFC 5321 §4.5.2: a line starting with "." gets another "."; the data ends with CRLF.CRLF.
    /// Bare CR or LF are normalised to CRLF first, so no lone "\n.\n" can end the data early.
    public static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 50 + 5)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                out.append(contentsOf: [13, 10])
                if byte == UInt8(ascii: "\r"), index + 1 < message.count, message[index + 1] == UInt8(ascii: "\n") { index += 1 }
                atLineStart = true
            } else {
                if atLineStart, byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
                out.append(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart { out.append(contentsOf: [13, 10]) }
        out.append(contentsOf: Array(".\r\n".utf8))
        return out
    }
}
