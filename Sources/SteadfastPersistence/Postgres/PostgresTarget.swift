/// Which PostgreSQL servers a node uses and how it chooses between them, as in libpq's
/// multi-host connection strings (`postgres://u@h1:5432,h2:5433/db?target_session_attrs=...`).
public struct PostgresTarget: Sendable, Hashable, CustomStringConvertible {
    public var endpoints: [PostgresEndpoint]
    public var sessionAttributes: TargetSessionAttributes

    public init(endpoints: [PostgresEndpoint], sessionAttributes: TargetSessionAttributes = .readWrite) {
        precondition(!endpoints.isEmpty, "a PostgreSQL target needs at least one host")
        self.endpoints = endpoints
        self.sessionAttributes = sessionAttributes
    }

    public var description: String {
        let first = endpoints[0]
        let hosts = endpoints.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        return "postgres://\(first.username)@\(hosts)/\(first.database)?target_session_attrs=\(sessionAttributes.rawValue)"
    }
}

/// Where read-only work may go (writes always go to the primary).
public enum TargetSessionAttributes: String, Sendable, Hashable, CaseIterable {
    /// Reads go to the primary; only when no primary is reachable, to a standby within the lag bound.
    case readWrite = "read-write"
    /// Reads go to a standby within the lag bound when there is one, else the primary.
    case preferStandby = "prefer-standby"
    /// Reads go to the primary or any standby within the lag bound, whichever is available.
    case any
}
