import Foundation

/// Where the node's database is, parsed from a URL.
///
/// - `sqlite:PATH` or `sqlite://PATH` — a SQLite file (`sqlite:///var/lib/steadfast/db.sqlite`,
///   `sqlite://./steadfast-data/steadfast.sqlite`); `sqlite::memory:` for a throw-away database.
/// - `postgres://user:password@host:port/database?sslmode=disable|require` (also `postgresql://`),
///   with several hosts in the libpq style — `postgres://u@h1:5432,h2:5433,h3/db` — and
///   `target_session_attrs=read-write|prefer-standby|any` choosing where reads may go.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String?)
    case postgres(PostgresTarget)

    public init(_ string: String) throws(DatabaseError) {
        let trimmed = string.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw DatabaseError(.configuration, message: "database URL 'sqlite:' needs a file path, e.g. sqlite://./steadfast-data/steadfast.sqlite") }
            self = .sqlite(path: path == ":memory:" ? nil : path)
            return
        }
        let scheme: String
        if trimmed.hasPrefix("postgres://") {
            scheme = "postgres://"
        } else if trimmed.hasPrefix("postgresql://") {
            scheme = "postgresql://"
        } else {
            throw DatabaseError(.configuration, message: "database URL must start with sqlite: or postgres:// (got '\(Self.redacted(trimmed))')")
        }
        // Split "user:pass@h1:p1,h2:p2/db?query" by hand: URLComponents rejects host lists.
        var rest = Substring(trimmed.dropFirst(scheme.count))
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        var database = ""
        if let slash = rest.firstIndex(of: "/") {
            database = String(rest[rest.index(after: slash)...]).removingPercentEncoding ?? ""
            rest = rest[..<slash]
        }
        var username = "postgres"
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                username = String(credentials[..<colon]).removingPercentEncoding ?? ""
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding
            } else {
                username = String(credentials).removingPercentEncoding ?? ""
            }
        }
        guard !database.isEmpty else { throw DatabaseError(.configuration, message: "database URL has no database name (postgres://user@host:5432/NAME)") }
        guard !rest.isEmpty else { throw DatabaseError(.configuration, message: "database URL has no host: '\(Self.redacted(trimmed))'") }
        var requireTLS = false
        var attributes = TargetSessionAttributes.readWrite
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            let name = parts[0]
            let value = parts.count > 1 ? parts[1] : ""
            switch name {
            case "sslmode":
                switch value {
                case "disable", "allow", "prefer": requireTLS = false
                case "require", "verify-ca", "verify-full": requireTLS = true
                default: throw DatabaseError(.configuration, message: "database URL sslmode '\(value)' is not one of disable, prefer, require")
                }
            case "target_session_attrs":
                guard let parsed = TargetSessionAttributes(rawValue: value) else {
                    throw DatabaseError(.configuration, message: "database URL target_session_attrs '\(value)' is not one of read-write, prefer-standby, any")
                }
                attributes = parsed
            default:
                throw DatabaseError(.configuration, message: "database URL parameter '\(name)' is not supported")
            }
        }
        var endpoints: [PostgresEndpoint] = []
        for hostPort in rest.split(separator: ",", omittingEmptySubsequences: false) {
            let (host, port) = try Self.hostAndPort(String(hostPort))
            endpoints.append(PostgresEndpoint(host: host, port: port, username: username, password: password, database: database, requireTLS: requireTLS))
        }
        guard Set(endpoints.map { "\($0.host):\($0.port)" }).count == endpoints.count else {
            throw DatabaseError(.configuration, message: "database URL lists the same host twice")
        }
        self = .postgres(PostgresTarget(endpoints: endpoints, sessionAttributes: attributes))
    }

    /// "host", "host:5433", "[::1]:5433".
    static func hostAndPort(_ text: String) throws(DatabaseError) -> (String, Int) {
        var host = text
        var port = 5432
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw DatabaseError(.configuration, message: "database URL host '\(text)' is missing ']'") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw DatabaseError(.configuration, message: "database URL port in '\(text)' is not a number") }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]) else { throw DatabaseError(.configuration, message: "database URL port in '\(text)' is not a number") }
            port = p
        }
        guard !host.isEmpty else { throw DatabaseError(.configuration, message: "database URL has an empty host") }
        guard (1...65535).contains(port) else { throw DatabaseError(.configuration, message: "database URL port \(port) is out of range") }
        return (host, port)
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path ?? ":memory:")"
        case .postgres(let target): target.description
        }
    }

    /// The URL with any password replaced by `***`, for error messages.
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://")?.upperBound, schemeEnd < at else { return url }
        let credentials = url[schemeEnd..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
