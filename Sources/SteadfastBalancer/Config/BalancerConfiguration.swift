import NIOCore

/// The whole typed configuration of `steadfast balance`, as read from YAML by
/// ``BalancerConfiguration/load(yaml:)``. Every key and its default is documented in
/// `docs/balancer.md`; the defaults below are the single source of truth for them.
public struct BalancerConfiguration: Sendable, Equatable {
    /// One client-facing listener: an address and optional TLS termination.
    public struct Listener: Sendable, Equatable {
        /// `host:port` to bind; port 0 picks a free port (printed at start-up).
        public var host: String
        public var port: Int
        /// TLS termination for this listener, or `nil` for plain HTTP.
        public var tls: TLS?

        public init(host: String, port: Int, tls: TLS? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    /// PEM files for TLS termination on a listener.
    public struct TLS: Sendable, Equatable {
        /// PEM file with the certificate chain (leaf first).
        public var certificatePath: String
        /// PEM file with the private key.
        public var privateKeyPath: String
    }

    /// Size and time limits applied to every client and backend connection.
    public struct Limits: Sendable, Equatable {
        /// Largest request head (all header names and values) accepted; larger gets 431. Default 16 KiB.
        public var maxHeaderBytes: Int = 16 * 1024
        /// Largest request body accepted; larger gets 413. Default 10 MiB.
        public var maxBodyBytes: Int = 10 * 1024 * 1024
        /// Time a client has to send a complete request head once it started one; then 408. Default 10 s.
        public var clientHeaderTimeout: TimeAmount = .seconds(10)
        /// Time an idle keep-alive client connection is kept open. Default 60 s.
        public var clientIdleTimeout: TimeAmount = .seconds(60)
        /// Time allowed to open a TCP connection to a backend. Default 2 s.
        public var backendConnectTimeout: TimeAmount = .seconds(2)
        /// Longest silence from a backend while a request is in flight; then 504 (or a cut response). Default 30 s.
        public var backendTimeout: TimeAmount = .seconds(30)
        /// Idle pooled backend connections are closed after this long. Default 30 s.
        public var backendIdleTimeout: TimeAmount = .seconds(30)
        /// Idle keep-alive connections kept per backend server and event loop. Default 64.
        public var maxIdleConnectionsPerBackend: Int = 64

        public init() {}
    }

    /// Active health checking of every server.
    public struct HealthCheck: Sendable, Equatable {
        /// Path requested with `GET`. Default `/readyz`.
        public var path: String = "/readyz"
        /// Status that counts as healthy. Default 200. A 503 always means "drain me".
        public var expectedStatus: Int = 200
        /// Time between checks of a server in a stable state. Default 2 s.
        public var interval: TimeAmount = .seconds(2)
        /// Time between checks while a server is changing state (failing or recovering). Default 500 ms.
        public var fastInterval: TimeAmount = .milliseconds(500)
        /// Time a check may take. Default 1 s.
        public var timeout: TimeAmount = .seconds(1)
        /// Consecutive failed checks that take a healthy server down. Default 3.
        public var fall: Int = 3
        /// Consecutive passed checks that bring a down server back. Default 2.
        public var rise: Int = 2

        public init() {}
    }

    /// Passive failure detection from live traffic.
    public struct PassiveHealth: Sendable, Equatable {
        /// Consecutive failures (connection failures, resets, and 5xx if `count5xx`) that eject a
        /// server until active checks pass `rise` times. 0 disables passive ejection. Default 3.
        public var consecutiveFailures: Int = 3
        /// Whether 5xx answers count as failures. Default true.
        public var count5xx: Bool = true

        public init() {}
    }

    /// Retry policy (see ``RetryStateMachine``).
    public struct Retries: Sendable, Equatable {
        /// Attempts per request, the first included. Default 3.
        public var maxAttempts: Int = 3
        /// Retries after a request may have reached a backend, as a percentage of requests. Default 20.
        public var budgetPercent: Int = 20
        /// Retries always allowed per second regardless of the percentage. Default 10.
        public var minPerSecond: Int = 10
        /// Request bodies up to this size are kept for a possible replay; larger ones make an
        /// idempotent request non-replayable once sent. Default 64 KiB.
        public var replayBodyBytes: Int = 64 * 1024

        public init() {}
    }

    /// Legacy sticky sessions by an inserted cookie.
    public struct Sticky: Sendable, Equatable {
        /// Off by default.
        public var enabled: Bool = false
        /// Cookie name. Default `STEADFAST_SERVER`.
        public var cookie: String = "STEADFAST_SERVER"

        public init() {}
    }

    /// One backend server.
    public struct Server: Sendable, Equatable {
        /// Unique name, used by the admin API, metrics and the sticky cookie.
        public var name: String
        public var host: String
        public var port: Int
        /// Relative share of traffic, 0...1000. Default 100. 0 takes no new requests.
        public var weight: Int
        /// A backup server is used only while no primary server is usable. Default false.
        public var backup: Bool

        public init(name: String, host: String, port: Int, weight: Int = 100, backup: Bool = false) {
            self.name = name
            self.host = host
            self.port = port
            self.weight = weight
            self.backup = backup
        }
    }

    /// Client-facing listeners; at least one.
    public var listeners: [Listener]
    /// The admin (JSON + metrics) listener; `nil` runs without one. Its host defaults to
    /// 127.0.0.1; a non-loopback one needs ``adminToken``.
    public var admin: Listener?
    /// The bearer token the admin API requires (`admin.token`, or the contents of
    /// `admin.token_file`); `nil`: none. Applies at once on reload. Never logged.
    public var adminToken: String?
    /// Number of event loops (threads). Default: number of cores.
    public var eventLoops: Int
    /// Balancing algorithm. Default round-robin.
    public var algorithm: BalancingAlgorithm = .roundRobin
    /// Ramp-up time of a server that becomes usable again. Default 10 s; 0 disables.
    public var slowStart: TimeAmount = .seconds(10)
    public var limits = Limits()
    public var health = HealthCheck()
    public var passive = PassiveHealth()
    public var retries = Retries()
    public var sticky = Sticky()
    /// Backend servers; at least one.
    public var servers: [Server]
    /// Time in-flight requests get to finish on SIGTERM. Default 30 s.
    public var shutdownGracePeriod: TimeAmount = .seconds(30)

    public init(listeners: [Listener], admin: Listener? = nil, eventLoops: Int = System.coreCount, servers: [Server]) {
        self.listeners = listeners
        self.admin = admin
        self.eventLoops = eventLoops
        self.servers = servers
    }
}
