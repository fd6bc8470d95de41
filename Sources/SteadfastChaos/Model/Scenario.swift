/// The faults `steadfast chaos` can inject, one per run (docs/chaos.md).
public enum Scenario: String, Codable, Sendable, CaseIterable {
    case killNode = "kill-node"
    case rollingRestart = "rolling-restart"
    case dbFailover = "db-failover"
    case storageOutage = "storage-outage"
    case balancerReload = "balancer-reload"
    case slowNode = "slow-node"

    /// One sentence for the report.
    public var summary: String {
        switch self {
        case .killNode: "Node-2 is killed with SIGKILL, then started again"
        case .rollingRestart: "Every node is drained, stopped, started and put back, one at a time"
        case .dbFailover: "The database primary is killed with SIGKILL and a standby takes over"
        case .storageOutage: "The storage server is stopped, then started again"
        case .balancerReload: "The balancer is sent SIGHUP (re-reads its configuration) twice"
        case .slowNode: "Node-2 is frozen with SIGSTOP for a few seconds, then continued"
        }
    }
}

/// How the cluster's database fails over, from `cluster status --json`'s `db`.
public enum FailoverMode: String, Codable, Sendable {
    case promote
    case patroni
}

/// The numbers the targets are checked against. Defaults are the issue's; the command takes
/// the ones that depend on the cluster (Patroni's ttl) from flags.
public struct TargetSettings: Codable, Sendable, Equatable {
    /// `db-failover` with `promote`: the write outage may last at most this much beyond the promotion.
    public var failoverSlack: Double = 1
    /// `db-failover` with `patroni`: Patroni's `ttl` (its detection time), in seconds.
    public var patroniTTL: Double = 10
    public var failoverMode: FailoverMode = .promote
    /// `storage-outage`: a failed upload or download must have answered within this many seconds.
    public var failFastLimit: Double = 2.5
    /// `storage-outage`: file requests that start this long after the storage server is back must work.
    public var storageRecoveryGrace: Double = 2

    public init() {}
}
