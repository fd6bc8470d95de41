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
    /// Whether the value is a whole YAML structure (a list of maps...), kept as YAML text and
    /// decoded by the owner; in env and `--set` it is given as JSON.
    public let isStructured: Bool

    public init(_ name: String, default defaultValue: String, _ summary: String, isList: Bool = false, isStructured: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
        self.isList = isList
        self.isStructured = isStructured
    }

    /// The environment variable that sets this key: `STEADFAST_` + name upper-cased, dots → `_`.
    public var environmentVariable: String {
        "STEADFAST_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension ConfigKey {
    public static let nodeID = ConfigKey("node.id", default: "", "Name of this node in logs, migrations and job history; default: host name plus a random suffix.")
    public static let dataDir = ConfigKey("node.data_dir", default: "./steadfast-data", "Directory for the default SQLite database and local file storage.")
    public static let devMode = ConfigKey("node.dev", default: "false", "Development mode (serve --dev): turns on what must never run in production, today the testcard gateway when billing.gateways is not set.")
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
    public static let publicURL = ConfigKey("http.public_url", default: "", "The portal's public base URL (https://portal.example.com), used in download links; default: links are relative to the node.")
    public static let storageLocalPath = ConfigKey("storage.local_path", default: "", "Directory of the built-in `local` storage target (a NAS mount in a cluster); default: <node.data_dir>/files.")
    public static let storageTargets = ConfigKey("storage.targets", default: "", "Storage targets (a YAML list of maps; JSON in env/--set), see docs/storage.md; default: only the built-in `local` target.", isStructured: true)
    public static let storageDefaultTarget = ConfigKey("storage.default_target", default: "local", "Target for file types not listed in storage.types.")
    public static let storageTypes = ConfigKey("storage.types", default: "", "Per-file-type routes ({ticket_attachments: {target, prefix}}; JSON in env/--set); the migration command changes them at runtime.", isStructured: true)
    public static let storageMaxUploadSize = ConfigKey("storage.max_upload_size", default: "64MiB", "Largest file accepted by an upload (413 above it).")
    public static let storageClientQuota = ConfigKey("storage.client_quota", default: "1GiB", "Most bytes one client's files may take in all (413 with a clear message above it); 0: no limit.")
    public static let storageRouteRefresh = ConfigKey("storage.route_refresh_interval", default: "5s", "How often a node re-reads per-type routes from the database, so a `storage migrate` switch reaches every node without a restart.")
    public static let sessionCookieName = ConfigKey("session.cookie_name", default: "steadfast_session", "Name of the session cookie.")
    public static let sessionIdleTimeout = ConfigKey("session.idle_timeout", default: "30m", "A session unused for this long expires.")
    public static let sessionAbsoluteTimeout = ConfigKey("session.absolute_timeout", default: "12h", "A session expires this long after log-in, however active.")
    public static let sessionCleanupInterval = ConfigKey("session.cleanup_interval", default: "5m", "How often expired session rows are deleted (the session-cleanup job: one node per run).")
    public static let sessionSecureCookies = ConfigKey("session.secure_cookies", default: "auto", "auto: mark cookies Secure when the request came over HTTPS (directly or via a trusted proxy); always; never.")
    public static let securitySecret = ConfigKey("security.secret", default: "", "Cluster-wide secret for CSRF tokens and signed links (at least 32 characters); default: generated once and stored in the database, so every node shares it.")
    public static let rateLimitLoginPerAccount = ConfigKey("security.rate_limit.login_per_account", default: "10/15m", "Log-in attempts for one account (known or not), from anywhere in the cluster, per window: N/DURATION, or off. Above it: 429 with Retry-After.")
    public static let rateLimitLoginPerIP = ConfigKey("security.rate_limit.login_per_ip", default: "100/15m", "Log-in attempts from one client IP (as resolved through http.trusted_proxies) per window: N/DURATION, or off.")
    public static let rateLimitRegisterPerIP = ConfigKey("security.rate_limit.register_per_ip", default: "20/1h", "Registrations from one client IP per window: N/DURATION, or off.")
    public static let rateLimitAPIToken = ConfigKey("security.rate_limit.api_token", default: "1200/1m", "Requests made with one API token per window: N/DURATION, or off.")
    public static let bcryptCost = ConfigKey("security.bcrypt_cost", default: "12", "bcrypt work factor for password hashes (4-31).")
    public static let adminEmail = ConfigKey("admin.email", default: "", "E-mail of the staff account created on first start; default: admin@steadfast.local.")
    public static let adminPassword = ConfigKey("admin.password", default: "", "Password of that account; default: a random one, printed once at first start.")
    public static let billingCurrency = ConfigKey("billing.currency", default: "USD", "ISO 4217 currency of the catalogue and of new clients (USD, EUR, GBP, JPY...).")
    public static let billingTimeZone = ConfigKey("billing.time_zone", default: "UTC", "Time zone (IANA name, e.g. Europe/Berlin) in which the billing day changes: due dates, periods and overdue days follow it.")
    public static let billingTaxMode = ConfigKey("billing.tax_mode", default: "exclusive", "exclusive: catalogue prices are net and tax is added; inclusive: prices include tax.")
    public static let billingTaxRules = ConfigKey("billing.tax_rules", default: "", "Tax by client location: COUNTRY[-REGION]=RATE[:NAME], e.g. DE=19:VAT,US-NY=8.875:Sales tax; a region rule beats its country's rule; no rule means no tax.", isList: true)
    public static let billingDefaultCountry = ConfigKey("billing.default_country", default: "", "Two-letter country assumed for clients who have not set theirs; empty: none (no tax until they do).")
    public static let billingInvoiceNumberFormat = ConfigKey("billing.invoice_number_format", default: "INV-{YYYY}-{SEQ:6}", "Invoice numbers: {YYYY}, {YY}, {MM} and one {SEQ} or {SEQ:n} (counter, zero-padded); the counter restarts whenever the text around it changes (yearly here).")
    public static let billingInvoiceDueDays = ConfigKey("billing.invoice_due_days", default: "7", "Days from issue to due date of order and staff invoices (renewal invoices are due when their period starts).")
    public static let billingRenewalLeadDays = ConfigKey("billing.renewal_lead_days", default: "14", "Days before a service's due date on which its renewal invoice is generated.")
    public static let billingLateFee = ConfigKey("billing.late_fee", default: "0", "Late fee billed once, on a separate invoice, for an overdue invoice: an amount (5.00) or a percentage of the total (10%); 0 for none.")
    public static let billingLateFeeAfterDays = ConfigKey("billing.late_fee_after_days", default: "3", "Days after the due date when the late fee is billed (at least 1).")
    public static let billingReminderDays = ConfigKey("billing.reminder_days", default: "1,7,14", "Days after the due date on which an overdue reminder is queued (one of each).", isList: true)
    public static let billingSuspensionDays = ConfigKey("billing.suspension_days", default: "14", "Days after the due date when a service with an unpaid invoice is suspended (lifted on payment); 0 never suspends.")
    public static let billingAcceptOrdersOnPayment = ConfigKey("billing.accept_orders_on_payment", default: "true", "Whether paying an order's invoice accepts the order (creating its services) without waiting for staff.")
    public static let billingGateways = ConfigKey("billing.gateways", default: "banktransfer", "Payment methods offered to clients: banktransfer (staff record the payment), stripe (cards through Stripe; needs billing.stripe.secret_key and billing.stripe.webhook_secret) and testcard (the simulated card gateway: anyone can pay with it, so only for trials; a node with it logs a warning and shows a banner to staff). Default with --dev: banktransfer,testcard.", isList: true)
    public static let billingTestCardSecret = ConfigKey("billing.testcard_secret", default: "", "HMAC-SHA256 key of the test card gateway's webhook signatures; default: derived from the cluster secret, so every node agrees.")
    public static let billingBankTransferInstructions = ConfigKey("billing.bank_transfer_instructions", default: "Pay by bank transfer quoting the invoice number.", "What clients choosing bank transfer are told (the invoice number and amount are added).")
    public static let jobsEnabled = ConfigKey("jobs.enabled", default: "true", "Whether this node runs scheduled jobs (false: it serves only; the other nodes run the jobs).")
    public static let jobsLease = ConfigKey("jobs.lease", default: "30s", "How long a node holds a job's slot without renewing (it renews every third of it); a dead node's slot is taken over after about this long.")
    public static let jobsPollInterval = ConfigKey("jobs.poll_interval", default: "2s", "How often a node looks for slots other nodes left: expired leases, slots handed back at shutdown, manual runs.")
    public static let jobsShutdownGrace = ConfigKey("jobs.shutdown_grace", default: "10s", "On SIGTERM or SIGINT, how long running jobs may finish before they are cancelled and their slots handed to another node.")
    public static let jobsTimeZone = ConfigKey("jobs.time_zone", default: "UTC", "Time zone a cron jobs.billing.schedule is evaluated in, unless it names its own (an IANA name such as Europe/Berlin).")
    public static let jobsHistoryRetention = ConfigKey("jobs.history_retention", default: "30d", "Finished job runs older than this are deleted (hourly, by the jobs-history-prune job).")
    public static let jobsBillingSchedule = ConfigKey("jobs.billing.schedule", default: "every 1h", "When the billing job runs (renewal invoices, credit, late fees, reminders, suspensions): every DURATION, or a cron expression (in jobs.time_zone unless followed by (Zone)).")
    public static let jobsHeartbeatInterval = ConfigKey("jobs.heartbeat.interval", default: "", "Runs the diagnostic heartbeat job at this interval, recording each slot in job_heartbeats; off when empty.")
    public static let jobsHeartbeatDuration = ConfigKey("jobs.heartbeat.duration", default: "0s", "How long each heartbeat run works (without noticing cancellation) before recording its slot.")
    public static let jobsHeartbeatCatchUp = ConfigKey("jobs.heartbeat.catch_up", default: "run_all", "The heartbeat job's catch-up policy for missed slots: run_all, run_all:N, run_once or skip.")
    public static let logLevel = ConfigKey("log.level", default: "info", "trace, debug, info, notice, warning, error or critical.")
    public static let logFormat = ConfigKey("log.format", default: "text", "text (human-readable, key=value metadata) or json (one object per line).")

    /// Every key the portal node reads, in documentation order.
    public static let all: [ConfigKey] = [
        nodeID, dataDir, devMode, drainDelay, shutdownTimeout,
        httpHost, httpPort, maxBodySize, trustedProxies, publicURL,
        databaseURL, databaseHosts, databaseName, databaseUser, databasePassword, databaseSSLMode, databaseTargetSessionAttrs,
        databaseMaxConnections, databaseTimeout, databaseStandbyMaxLag, databaseMonitorInterval,
        storageLocalPath, storageTargets, storageDefaultTarget, storageTypes, storageMaxUploadSize, storageClientQuota, storageRouteRefresh,
        sessionCookieName, sessionIdleTimeout, sessionAbsoluteTimeout, sessionCleanupInterval, sessionSecureCookies,
        securitySecret, bcryptCost, rateLimitLoginPerAccount, rateLimitLoginPerIP, rateLimitRegisterPerIP, rateLimitAPIToken,
        adminEmail, adminPassword,
        billingCurrency, billingTimeZone, billingTaxMode, billingTaxRules, billingDefaultCountry,
        billingInvoiceNumberFormat, billingInvoiceDueDays, billingRenewalLeadDays,
        billingLateFee, billingLateFeeAfterDays, billingReminderDays, billingSuspensionDays,
        billingAcceptOrdersOnPayment, billingGateways, billingTestCardSecret, billingBankTransferInstructions,
        jobsEnabled, jobsLease, jobsPollInterval, jobsShutdownGrace, jobsTimeZone, jobsHistoryRetention, jobsBillingSchedule,
        jobsHeartbeatInterval, jobsHeartbeatDuration, jobsHeartbeatCatchUp,
        supportAutoCloseAfter, supportAttachmentMaxSize, supportMessageAttachmentsMaxSize, supportAttachmentsPerMessage,
        supportAttachmentExtensions, supportUploadLifetime, supportDownloadMaxSize,
        logLevel, logFormat,
    ] + stripeKeys + captureKeys + companyKeys + mailKeys + accountKeys
}
