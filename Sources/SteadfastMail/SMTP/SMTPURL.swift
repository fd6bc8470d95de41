import Foundation

/// `mail.smtp_url`: `smtp://[user[:password]@]host[:port][?starttls=required|opportunistic|never]`.
///
/// User and password may be percent-encoded. ``description`` never shows the password, and
/// parse errors never repeat the URL, so the secret cannot reach a log line.
public struct SMTPURL: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let username: String?
    public let password: String?
    public let tls: SMTPSessionSettings.TLSPolicy

    public init(host: String, port: Int, username: String? = nil, password: String? = nil, tls: SMTPSessionSettings.TLSPolicy) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// Parses the URL; errors name what is wrong, never the URL itself.
    public init(parsing text: String) throws(SMTPURLError) {
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)) else { throw SMTPURLError("is not a URL") }
        guard components.scheme?.lowercased() == "smtp" else { throw SMTPURLError("must start with smtp:// (smtps:// is not supported; use ?starttls=required)") }
        guard let host = components.host, !host.isEmpty else { throw SMTPURLError("has no host") }
        let port = components.port ?? 25
        guard (1...65_535).contains(port) else { throw SMTPURLError("port must be 1-65535") }
        guard components.path.isEmpty || components.path == "/" else { throw SMTPURLError("must not have a path") }
        var tls = SMTPSessionSettings.TLSPolicy.opportunistic
        for item in components.queryItems ?? [] {
            switch item.name {
            case "starttls":
                guard let value = item.value.flatMap(SMTPSessionSettings.TLSPolicy.init(rawValue:)) else {
                    throw SMTPURLError("starttls must be required, opportunistic or never")
                }
                tls = value
            default:
                throw SMTPURLError("unknown parameter '\(item.name.prefix(40))' (only starttls)")
            }
        }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        if password != nil, (user ?? "").isEmpty { throw SMTPURLError("has a password but no user") }
        self.init(host: host, port: port, username: user.flatMap { $0.isEmpty ? nil : $0 }, password: password, tls: tls)
    }

    /// Whether the host is on the loopback interface (credentials may then go without TLS).
    public var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }

    public var description: String {
        let auth = username.map { "\($0)\(password == nil ? "" : ":***")@" } ?? ""
        return "smtp://\(auth)\(host):\(port)?starttls=\(tls.rawValue)"
    }
}

/// A bad `mail.smtp_url`.
public struct SMTPURLError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "mail.smtp_url \(message)" }
}
