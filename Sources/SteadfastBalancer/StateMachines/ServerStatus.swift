/// A point-in-time view of one server, as the admin API lists it and metrics export it.
public struct ServerStatus: Sendable, Equatable, Codable {
    public var name: String
    public var address: String
    public var backup: Bool
    /// Operator state: ready, drain or maint.
    public var state: ServerAdminState
    /// Health: up, failing, down, recovering or draining.
    public var health: String
    /// Whether new (non-sticky) requests may go to it now.
    public var usable: Bool
    /// Configured weight.
    public var weight: Int
    /// Weight in effect now (lower during slow start).
    public var effectiveWeight: Double
    /// Whether slow start is ramping this server up.
    public var slowStart: Bool
    /// Requests in flight to this server.
    public var activeRequests: Int
    /// Attempts sent to this server (first attempts and retries).
    public var selected: UInt64
    /// Responses by class.
    public var responses2xx: UInt64
    public var responses3xx: UInt64
    public var responses4xx: UInt64
    public var responses5xx: UInt64
    /// Attempts that failed without a response (refused, reset, timed out).
    public var failures: UInt64
    /// Times passive detection ejected the server.
    public var ejections: UInt64

    enum CodingKeys: String, CodingKey {
        case name, address, backup, state, health, usable, weight
        case effectiveWeight = "effective_weight"
        case slowStart = "slow_start"
        case activeRequests = "active_requests"
        case selected
        case responses2xx = "responses_2xx"
        case responses3xx = "responses_3xx"
        case responses4xx = "responses_4xx"
        case responses5xx = "responses_5xx"
        case failures, ejections
    }
}
