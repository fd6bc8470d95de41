import Foundation
import Logging

/// Where delivery hands a message. Throws ``SMTPFailure`` (its reply code decides whether the
/// message is retried) or any other error (always retried).
public protocol MailTransport: Sendable {
    func send(_ envelope: SMTPEnvelope) async throws
}

/// `mail.transport: log`: writes each message to the log instead of sending it (development and
/// a fresh single node). The body is logged as text, at most 64 KiB of it.
public struct LogMailTransport: MailTransport {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func send(_ envelope: SMTPEnvelope) async throws {
        logger.notice("mail (mail.transport=log, not sent)", metadata: [
            "from": "\(envelope.from)", "to": "\(envelope.recipients.joined(separator: ","))",
            "message": "\(String(decoding: envelope.message.prefix(65_536), as: UTF8.self))",
        ])
    }
}
