import Foundation

/// Where the node's database is, parsed from a URL.
///
/// - `sqlite:PATH` or `sqlite://PATH` — a SQLite file (`sqlite:///var/lib/steadfast/db.sqlite`,
///   `sqlite://./steadfast-data/steadfast.sqlite`); `sqlite::memory:` for a throw-away database.
/// - `postgres://user:password@host:port/database?sslmode=disable|require` (also `postgresql://`).
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String?)
    case postgres(PostgresEndpoint)

    public init(_ string: String) throws(DatabaseError) {
        let trimmed = string.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw DatabaseError(.configuration, message: "database URL 'sqlite:' needs a file path, e.g. sqlite://./steadfast-data/steadfast.sqlite") }
            self = .sqlite(path: path == ":memory:" ? nil : path)
            return
        }
        guard trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") else {
            throw DatabaseError(.configuration, message: "database URL must start with sqlite: or postgres:// (got '\(Self.redacted(trimmed))')")
        }
        guard let components = URLComponents(string: trimmed) else {
            throw DatabaseError(.configuration, message: "database URL is not a valid URL: '\(Self.redacted(trimmed))'")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DatabaseError(.configuration, message: "database URL has no host: '\(Self.redacted(trimmed))'")
        }
        if host.contains(",") {
            throw DatabaseError(.configuration, message: "database URL lists several hosts; multi-host PostgreSQL is not supported by this build")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw DatabaseError(.configuration, message: "database URL port \(port) is out of range") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw DatabaseError(.configuration, message: "database URL has no database name (postgres://user@host:5432/NAME)") }
        let username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        var requireTLS = false
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"): requireTLS = false
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"): requireTLS = true
            case ("sslmode", let other): throw DatabaseError(.configuration, message: "database URL sslmode '\(other)' is not one of disable, prefer, require")
            default: throw DatabaseError(.configuration, message: "database URL parameter '\(item.name)' is not supported")
            }
        }
        self = .postgres(PostgresEndpoint(host: host, port: port, username: username, password: password, database: database, requireTLS: requireTLS))
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path ?? ":memory:")"
        case .postgres(let endpoint): "postgres://\(endpoint)"
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
