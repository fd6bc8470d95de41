/// How a node's scheduler claims and holds slots (from `jobs.*` configuration).
public struct SchedulerSettings: Sendable, Equatable {
    /// How long a claim holds a slot without renewal (renewed every third of it). A dead node's
    /// slot is taken over after at most this plus ``pollInterval``. Default 30 s.
    public var lease: Duration
    /// How often a node looks for slots other nodes left (dead leases, hand-backs, manual runs).
    public var pollInterval: Duration
    /// On graceful shutdown, how long running jobs may go on before they are cancelled and their
    /// slots handed back.
    public var shutdownGrace: Duration
    /// How long a cancelled body may take to return before it is left behind (fenced).
    public var cancelGrace: Duration

    public init(lease: Duration = .seconds(30), pollInterval: Duration = .seconds(2), shutdownGrace: Duration = .seconds(10), cancelGrace: Duration = .seconds(5)) {
        self.lease = lease
        self.pollInterval = pollInterval
        self.shutdownGrace = shutdownGrace
        self.cancelGrace = cancelGrace
    }
}
