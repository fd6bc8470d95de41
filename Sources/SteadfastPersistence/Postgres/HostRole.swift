/// What the role monitor last learned about one PostgreSQL host.
public enum HostRole: Sendable, Equatable {
    /// Not probed yet.
    case unknown
    /// Accepts writes; `timeline` breaks ties if two hosts claim to be primary (the newer
    /// timeline is the promoted one).
    case primary(timeline: Int)
    /// In recovery (a streaming replica); `lagSeconds` is how far its replay is behind
    /// (0 when it has replayed everything it received).
    case standby(lagSeconds: Double)
    /// The probe failed; the message says why.
    case unreachable(String)

    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .primary: "primary"
        case .standby: "standby"
        case .unreachable: "unreachable"
        }
    }
}

/// A host's role as shown by `/readyz` and `steadfast db status`.
public struct HostStatus: Sendable, Codable, Equatable {
    public var host: String
    public var role: String
    public var lagSeconds: Double?
    public var timeline: Int?
    public var error: String?
    /// Whether reads may currently be routed here (primary, or standby within the lag bound).
    public var readable: Bool

    enum CodingKeys: String, CodingKey {
        case host, role, timeline, error, readable
        case lagSeconds = "lag_seconds"
    }

    public init(host: String, role: HostRole, readable: Bool) {
        self.host = host
        self.role = role.name
        self.readable = readable
        switch role {
        case .primary(let timeline): self.timeline = timeline
        case .standby(let lag): self.lagSeconds = (lag * 1000).rounded() / 1000
        case .unreachable(let message): self.error = message
        case .unknown: break
        }
    }
}
