/// One documented configuration key: its dotted name, default and meaning.
///
/// ``ConfigKey/all`` is the single list of every key the node reads; `docs/configuration.md`
/// is checked against it by a test, so the documentation cannot drift from the code.
public struct ConfigKey: Sendable, Hashable {
    /// Dotted name used in the YAML file (`http.port` is `http: {port: ...}`).
    public let name: String
    /// The default, as it would be written in the file ("" when there is none).
    public let defaultValue: String
    /// One sentence for the documentation.
    public let summary: String
    /// Whether the value is a list (YAML sequence; comma-separated in env and `--set`).
    public let isList: Bool

    public init(_ name: String, default defaultValue: String, _ summary: String, isList: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
        self.isList = isList
    }

    /// The environment variable that sets this key: `STEADFAST_` + name upper-cased, dots → `_`.
    public var environmentVariable: String {
        "STEADFAST_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension ConfigKey {
    public static let nodeID = ConfigKey("node.id", default: "", "Name of this node in logs, migrations and job history; default: host name plus a random suffix.")
    public static let dataDir = ConfigKey("node.data_dir", default: "./steadfast-data", "Directory for the default SQLite database and local file storage.")
    public static let drainDelay = ConfigKey("node.drain_delay", default: "5s", "After SIGTERM/SIGINT, how long /readyz answers 503 while the node still serves, so load balancers stop sending new requests.")
    public static let shutdownTimeout = ConfigKey("node.shutdown_timeout", default: "30s", "Longest wait for in-flight requests after the drain delay before the process exits anyway.")
    public static let httpHost = ConfigKey("http.host", default: "127.0.0.1", "Address to listen on (0.0.0.0 or :: for every interface).")
    public static let httpPort = ConfigKey("http.port", default: "8080", "TCP port to listen on; 0 picks a free port and prints it.")
    public static let maxBodySize = ConfigKey("http.max_body_size", default: "1MiB", "Largest request body accepted (413 above it). Accepts B, KiB, MiB, GiB.")
    public static let trustedProxies = ConfigKey("http.trusted_proxies", default: "", "CIDR blocks of load balancers/proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed, e.g. 10.0.0.0/8,127.0.0.1/32.", isList: true)
    public static let databaseURL = ConfigKey("database.url", default: "", "sqlite://PATH or postgres://user:password@host:port/db; default: SQLite at <node.data_dir>/steadfast.sqlite.")
    public static let databaseMaxConnections = ConfigKey("database.max_connections", default: "20", "Most PostgreSQL connections this node opens.")
    public static let databaseTimeout = ConfigKey("database.timeout", default: "2s", "Longest a request waits for the database (pool queueing and failover retries included) before failing with 503.")
    public static let databaseHosts = ConfigKey("database.hosts", default: "", "PostgreSQL servers as host:port, primary and standbys in any order (instead of database.url), e.g. db1:5432,db2:5432.", isList: true)
    public static let databaseName = ConfigKey("database.name", default: "steadfast", "Database name, with database.hosts.")
    public static let databaseUser = ConfigKey("database.user", default: "steadfast", "User name, with database.hosts.")
    public static let databasePassword = ConfigKey("database.password", default: "", "Password, with database.hosts.")
    public static let databaseSSLMode = ConfigKey("database.sslmode", default: "disable", "disable or require, with database.hosts.")
    public static let databaseTargetSessionAttrs = ConfigKey("database.target_session_attrs", default: "read-write", "Where reads may go: read-write (the primary; a standby only while no primary is reachable), prefer-standby, any. Writes always go to the primary.")
    public static let databaseStandbyMaxLag = ConfigKey("database.standby_max_lag", default: "5s", "A standby lagging more than this behind in replay is not used for reads.")
    public static let databaseMonitorInterval = ConfigKey("database.monitor_interval", default: "1s", "How often each PostgreSQL host's role and lag are checked (also at once when work fails).")
    public static let storageLocalPath = ConfigKey("storage.local_path", default: "", "Directory for uploaded files (a NAS mount in a cluster); default: <node.data_dir>/files.")
    public static let sessionCookieName = ConfigKey("session.cookie_name", default: "steadfast_session", "Name of the session cookie.")
    public static let sessionIdleTimeout = ConfigKey("session.idle_timeout", default: "30m", "A session unused for this long expires.")
    public static let sessionAbsoluteTimeout = ConfigKey("session.absolute_timeout", default: "12h", "A session expires this long after log-in, however active.")
    public static let sessionCleanupInterval = ConfigKey("session.cleanup_interval", default: "5m", "How often expired session rows are deleted (the session-cleanup job: one node per run).")
    public static let sessionSecureCookies = ConfigKey("session.secure_cookies", default: "auto", "auto: mark cookies Secure when the request came over HTTPS (directly or via a trusted proxy); always; never.")
    public static let securitySecret = ConfigKey("security.secret", default: "", "Cluster-wide secret for CSRF tokens and signed links (at least 32 characters); default: generated once and stored in the database, so every node shares it.")
    public static let bcryptCost = ConfigKey("security.bcrypt_cost", default: "12", "bcrypt work factor for password hashes (4-31).")
    public static let adminEmail = ConfigKey("admin.email", default: "", "E-mail of the staff account created on first start; default: admin@steadfast.local.")
    public static let adminPassword = ConfigKey("admin.password", default: "", "Password of that account; default: a random one, printed once at first start.")
    public static let jobsEnabled = ConfigKey("jobs.enabled", default: "true", "Whether this node runs scheduled jobs (false: it serves only; the other nodes run the jobs).")
    public static let jobsLease = ConfigKey("jobs.lease", default: "30s", "How long a node holds a job's slot without renewing (it renews every third of it); a dead node's slot is taken over after about this long.")
    public static let jobsPollInterval = ConfigKey("jobs.poll_interval", default: "2s", "How often a node looks for slots other nodes left: expired leases, slots handed back at shutdown, manual runs.")
    public static let jobsShutdownGrace = ConfigKey("jobs.shutdown_grace", default: "10s", "On SIGTERM, how long running jobs may finish before they are cancelled and their slots handed to another node.")
    public static let jobsTimeZone = ConfigKey("jobs.time_zone", default: "UTC", "Time zone cron schedules are evaluated in (an IANA name such as Europe/Berlin).")
    public static let jobsHistoryRetention = ConfigKey("jobs.history_retention", default: "30d", "Finished job runs older than this are deleted (hourly, by the jobs-history-prune job).")
    public static let jobsHeartbeatInterval = ConfigKey("jobs.heartbeat.interval", default: "", "Runs the diagnostic heartbeat job at this interval, recording each slot in job_heartbeats; off when empty.")
    public static let jobsHeartbeatDuration = ConfigKey("jobs.heartbeat.duration", default: "0s", "How long each heartbeat run works (without noticing cancellation) before recording its slot.")
    public static let jobsHeartbeatCatchUp = ConfigKey("jobs.heartbeat.catch_up", default: "run_all", "The heartbeat job's catch-up policy for missed slots: run_all, run_all:N, run_once or skip.")
    public static let logLevel = ConfigKey("log.level", default: "info", "trace, debug, info, notice, warning, error or critical.")
    public static let logFormat = ConfigKey("log.format", default: "text", "text (human-readable, key=value metadata) or json (one object per line).")

    /// Every key the portal node reads, in documentation order.
    public static let all: [ConfigKey] = [
        nodeID, dataDir, drainDelay, shutdownTimeout,
        httpHost, httpPort, maxBodySize, trustedProxies,
        databaseURL, databaseHosts, databaseName, databaseUser, databasePassword, databaseSSLMode, databaseTargetSessionAttrs,
        databaseMaxConnections, databaseTimeout, databaseStandbyMaxLag, databaseMonitorInterval,
        storageLocalPath,
        sessionCookieName, sessionIdleTimeout, sessionAbsoluteTimeout, sessionCleanupInterval, sessionSecureCookies,
        securitySecret, bcryptCost,
        adminEmail, adminPassword,
        jobsEnabled, jobsLease, jobsPollInterval, jobsShutdownGrace, jobsTimeZone, jobsHistoryRetention,
        jobsHeartbeatInterval, jobsHeartbeatDuration, jobsHeartbeatCatchUp,
        logLevel, logFormat,
    ]
}
