import Foundation
import SteadfastDomain

extension ConfigKey {
    public static let mailTransport = ConfigKey("mail.transport", default: "log", "log: write every outgoing message to the log instead of sending it; smtp: send through mail.smtp_url (docs/mail.md).")
    public static let mailSMTPURL = ConfigKey("mail.smtp_url", default: "", "The SMTP relay, smtp://user:password@host:port?starttls=required|opportunistic|never (default opportunistic; credentials are only sent over TLS or to a loopback relay). Never printed.")
    public static let mailFrom = ConfigKey("mail.from", default: "Steadfast <noreply@steadfast.invalid>", "Sender of outgoing mail, `address` or `Name <address>`; its domain ends every Message-ID. Set it when mail.transport is smtp.")
    public static let mailDeliveryInterval = ConfigKey("mail.delivery_interval", default: "15s", "How often the mail-delivery job sends what is due in the outbox (one node per run).")
    public static let mailSendTimeout = ConfigKey("mail.send_timeout", default: "60s", "Longest one SMTP delivery may take, connection included; a delivery's claim on a message lasts twice this (a dead node's message is sent again after that).")
    public static let mailRetryBase = ConfigKey("mail.retry_base", default: "1m", "Wait after the first temporary failure (4xx, no connection); it doubles with each attempt, up to 1h.")
    public static let mailMaxAttempts = ConfigKey("mail.max_attempts", default: "10", "Attempts before a temporarily failing message is marked failed (a 5xx reply fails it at once).")

    /// The `mail.*` keys, in documentation order.
    public static let mailKeys: [ConfigKey] = [mailTransport, mailSMTPURL, mailFrom, mailDeliveryInterval, mailSendTimeout, mailRetryBase, mailMaxAttempts]
}

extension NodeConfiguration {
    /// The `mail.*` settings (docs/mail.md).
    public struct Mail: Sendable {
        public enum Transport: String, Sendable { case log, smtp }

        public var transport: Transport
        /// `mail.smtp_url` as written (parsed, with its secret, by the mail target); nil when empty.
        public var smtpURL: String?
        public var fromAddress: String
        public var fromName: String
        public var deliveryInterval: Duration
        public var sendTimeout: Duration
        public var retryBase: Duration
        public var maxAttempts: Int

        /// How long a delivery's claim on a message lasts: longer than any send can take.
        public var claimLease: Duration { sendTimeout * 2 }
    }
}

extension NodeConfiguration.Mail {
    init(_ reader: Reader) throws(ConfigError) {
        transport = try reader.choice(.mailTransport)
        let url = try reader.string(.mailSMTPURL)
        smtpURL = url.isEmpty ? nil : url
        if transport == .smtp, smtpURL == nil { throw reader.fail(.mailSMTPURL, "must be set when mail.transport is smtp") }
        let from = try reader.nonEmptyString(.mailFrom)
        guard let parsed = Self.parseMailbox(from) else {
            throw reader.fail(.mailFrom, "expected an address or Name <address>, got '\(from.prefix(200))'")
        }
        (fromName, fromAddress) = parsed
        deliveryInterval = try reader.duration(.mailDeliveryInterval)
        guard deliveryInterval >= .seconds(1) else { throw reader.fail(.mailDeliveryInterval, "must be at least 1s") }
        sendTimeout = try reader.duration(.mailSendTimeout)
        guard sendTimeout >= .seconds(1), sendTimeout <= .seconds(3600) else { throw reader.fail(.mailSendTimeout, "must be from 1s to 1h") }
        retryBase = try reader.duration(.mailRetryBase)
        guard retryBase >= .milliseconds(100), retryBase <= .seconds(3600) else { throw reader.fail(.mailRetryBase, "must be from 100ms to 1h") }
        maxAttempts = try reader.int(.mailMaxAttempts, in: 1...100)
    }

    /// `addr@example.com` or `Name <addr@example.com>` → (name, address); nil when invalid.
    static func parseMailbox(_ text: String) -> (String, String)? {
        var name = "", address = text
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        }
        guard !name.contains(where: { $0.isNewline }), let email = try? EmailAddress(address) else { return nil }
        return (name, email.value)
    }
}
