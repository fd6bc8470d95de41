/// Where one PostgreSQL server is and how to log in to it.
public struct PostgresEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// Refuse to talk without TLS (`sslmode=require`); off by default for loopback test clusters.
    public var requireTLS: Bool

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String, requireTLS: Bool = false) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
    }

    /// `user@host:port/database`, never the password.
    public var description: String { "\(username)@\(host):\(port)/\(database)" }
}
