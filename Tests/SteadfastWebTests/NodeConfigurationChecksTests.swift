import Foundation
import SteadfastConfig
import SteadfastPersistence
import SteadfastStorage
import Testing

/// Every check in `NodeConfiguration` is a promise: a bad value stops the node with an error
/// naming its key (and where the value came from), and a good value next to the boundary is
/// accepted. One row per check; `BillingConfigurationTests` holds the billing syntax rows.
@Suite struct NodeConfigurationChecksTests {
    /// A bad setting and the key its error must name.
    struct Refused: Sendable, CustomTestStringConvertible {
        var settings: [(String, String)]
        var key: String
        init(_ key: String, _ value: String) {
            self.settings = [(key, value)]
            self.key = key
        }
        init(_ settings: [(String, String)], key: String) {
            self.settings = settings
            self.key = key
        }
        var testDescription: String { settings.map { "\($0)=\($1)" }.joined(separator: " ") + " → \(key)" }
    }

    /// Each setting gets its own source (`--set KEY`), so the error's source shows whether the
    /// blame went to the right value.
    static func sources(_ settings: [(String, String)]) throws -> ConfigSources {
        var sources = ConfigSources()
        for (key, value) in settings { try sources.set(key, to: value, source: "--set \(key)") }
        return sources
    }

    static func configuration(_ settings: [(String, String)]) throws -> NodeConfiguration {
        try NodeConfiguration(sources(settings))
    }

    static let hosts = ("database.hosts", "db1:5432,db2:5432")
    static let secret31 = String(repeating: "s", count: 31)
    static let rateLimitKeys = ["login_per_account", "login_per_ip", "register_per_ip", "api_token"].map { "security.rate_limit.\($0)" }

    /// `storage.types` routing every file type to `local`, except `downloads` to `downloads`.
    static func everyType(downloads: String = "local") -> String {
        "{" + FileType.allCases.map { #""\#($0.rawValue)":{"target":"\#($0 == .downloads ? downloads : "local")"}"# }.joined(separator: ",") + "}"
    }

    static let refused: [Refused] = [
        // node.*
        Refused("node.data_dir", ""), Refused("node.dev", "maybe"), Refused("node.dev", "2"),
        Refused("node.drain_delay", "soon"), Refused("node.drain_delay", "-1s"), Refused("node.drain_delay", "nan"),
        Refused("node.drain_delay", "1e300"), Refused("node.shutdown_timeout", "1e20d"), Refused("node.shutdown_timeout", "5 minutes"),
        // http.*
        Refused("http.host", ""), Refused("http.port", "65536"), Refused("http.port", "-1"),
        Refused("http.max_body_size", "0"), Refused("http.max_body_size", "1025MiB"), Refused("http.max_body_size", "lots"),
        Refused("http.max_body_size", "-1KiB"), Refused("http.max_body_size", "99999999999999999999GiB"),
        Refused("http.trusted_proxies", "10.0.0.0/33"), Refused("http.trusted_proxies", "proxy.internal"), Refused("http.trusted_proxies", "::/129"),
        Refused("http.public_url", "portal.example.com"), Refused("http.public_url", "ftp://portal.example.com"), Refused("http.public_url", "https://"),
        // database.*
        Refused([("database.url", "postgres://u@db1/steadfast"), hosts], key: "database.hosts"),
        Refused("database.target_session_attrs", "primary"),
        Refused([hosts, ("database.sslmode", "verify-full")], key: "database.sslmode"),
        Refused([hosts, ("database.sslmode", "prefer")], key: "database.sslmode"),
        Refused([hosts, ("database.user", "")], key: "database.user"),
        Refused([hosts, ("database.name", " ")], key: "database.name"),
        Refused("database.max_connections", "0"), Refused("database.max_connections", "1001"), Refused("database.max_connections", "many"),
        Refused("database.timeout", "99ms"), Refused("database.timeout", "fast"),
        Refused("database.monitor_interval", "99ms"), Refused("database.monitor_interval", "often"),
        Refused("database.standby_max_lag", "a bit"),
        // storage.*
        Refused("storage.max_upload_size", "0"), Refused("storage.max_upload_size", "1025GiB"),
        Refused("storage.client_quota", "-1"), Refused("storage.client_quota", "1048577GiB"), Refused("storage.client_quota", "a lot"),
        Refused("storage.route_refresh_interval", "often"),
        Refused("storage.targets", "[{name: a, kind: local"), Refused("storage.targets", #"[{"name":"a"}]"#),
        Refused("storage.targets", #"[{"name":"a","kind":"ftp"}]"#),
        Refused("storage.targets", #"[{"name":"a","kind":"local","path":"/x"},{"name":"a","kind":"local","path":"/y"}]"#),
        Refused("storage.targets", #"[{"name":"","kind":"local","path":"/x"}]"#),
        Refused("storage.types", #"{"invoices":{"target":"local"}}"#), Refused("storage.types", "[1, 2]"),
        Refused("storage.types", #"{"downloads":{"target":"nowhere"}}"#),
        Refused("storage.types", #"{"downloads":{"target":"local","prefix":"../"}}"#),
        Refused("storage.types", #"{"downloads":{"target":"local","prefix":"downloads"}}"#),
        Refused("storage.default_target", ""), Refused("storage.default_target", "nowhere"),
        Refused([("storage.default_target", "nowhere"), ("storage.types", #"{"downloads":{"target":"local"}}"#)], key: "storage.default_target"),
        // Every type routed: the default is not used, so a bad route is the routes' fault.
        Refused([("storage.default_target", "nowhere"), ("storage.types", everyType(downloads: "gone"))], key: "storage.types"),
        // session.*
        Refused("session.cookie_name", ""), Refused("session.cookie_name", "steadfast session"), Refused("session.cookie_name", "a;b=c"),
        Refused("session.cookie_name", "séance"), Refused("session.cookie_name", "a.b"),
        Refused("session.idle_timeout", "999ms"), Refused("session.idle_timeout", "soon"),
        Refused("session.absolute_timeout", "29m"), Refused([("session.idle_timeout", "13h")], key: "session.absolute_timeout"),
        Refused("session.cleanup_interval", "999ms"), Refused("session.secure_cookies", "sometimes"),
        // security.*
        Refused("security.secret", secret31), Refused("security.secret", "short"),
        Refused("security.bcrypt_cost", "3"), Refused("security.bcrypt_cost", "32"), Refused("security.bcrypt_cost", "twelve"),
    ] + rateLimitKeys.flatMap { key in
        ["10", "0/1m", "1000001/1m", "10/999ms", "10/8d", "ten/1m", "10/soon", "10/15m/2", "", "on", "-1/1m", "10/1e300"].map { Refused(key, $0) }
    } + [
        // log.*
        Refused("log.level", "verbose"), Refused("log.format", "xml"),
        // jobs.*
        Refused("jobs.enabled", "sometimes"), Refused("jobs.lease", "999ms"), Refused("jobs.lease", "long"),
        Refused("jobs.poll_interval", "99ms"), Refused("jobs.poll_interval", "30s"),
        Refused([("jobs.lease", "1s")], key: "jobs.poll_interval"),
        Refused("jobs.shutdown_grace", "a while"), Refused("jobs.time_zone", "Mars/Olympus"), Refused("jobs.time_zone", ""),
        Refused("jobs.history_retention", "59m"), Refused("jobs.billing.schedule", ""),
        Refused("jobs.heartbeat.interval", "99ms"), Refused("jobs.heartbeat.interval", "soon"), Refused("jobs.heartbeat.duration", "long"),
        Refused("jobs.heartbeat.catch_up", "sometimes"), Refused("jobs.heartbeat.catch_up", "run_all:0"),
        Refused("jobs.heartbeat.catch_up", "run_all:x"), Refused("jobs.heartbeat.catch_up", "run_all:"), Refused("jobs.heartbeat.catch_up", "run_all:-2"),
        // billing.* rows BillingConfigurationTests does not have
        Refused("billing.currency", ""), Refused("billing.currency", "E1R"), Refused("billing.time_zone", ""),
        Refused("billing.invoice_number_format", ""), Refused("billing.bank_transfer_instructions", " "),
        Refused("billing.invoice_due_days", "366"), Refused("billing.invoice_due_days", "-1"), Refused("billing.renewal_lead_days", "366"),
        Refused("billing.late_fee_after_days", "366"), Refused("billing.reminder_days", "366"), Refused("billing.reminder_days", "-1"),
        Refused("billing.suspension_days", "3651"), Refused("billing.suspension_days", "-1"),
        Refused("billing.testcard_secret", String(repeating: "t", count: 15)),
    ]

    @Test(arguments: refused)
    func aBadValueIsRefusedNamingItsKey(_ bad: Refused) throws {
        let sources = try Self.sources(bad.settings)
        let error = #expect(throws: ConfigError.self) { try NodeConfiguration(sources) }
        #expect(error?.key == bad.key, "\(error.map(String.init(describing:)) ?? "accepted")")
        // The error points at where the bad value came from, when the bad value was set.
        if bad.settings.contains(where: { $0.0 == bad.key }) {
            #expect(error?.source == "--set \(bad.key)", "\(error.map(String.init(describing:)) ?? "accepted")")
        }
    }

    @Test func goodValuesAtTheBoundaryAreAccepted() throws {
        func accepted(_ settings: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) -> NodeConfiguration? {
            do { return try Self.configuration(settings) } catch {
                Issue.record("\(settings) refused: \(error)", sourceLocation: sourceLocation)
                return nil
            }
        }
        // node.*
        #expect(accepted([("node.dev", "on")])?.devMode == true)
        #expect(accepted([("node.dev", "0")])?.devMode == false)
        #expect(accepted([("node.drain_delay", "0")])?.drainDelay == .zero)
        #expect(accepted([("node.drain_delay", "0.5")])?.drainDelay == .milliseconds(500))
        #expect(accepted([("node.shutdown_timeout", "1d")])?.shutdownTimeout == .seconds(86400))
        #expect(accepted([("node.shutdown_timeout", "36500d")])?.shutdownTimeout == .seconds(86400 * 36500))
        // http.*
        #expect(accepted([("http.port", "0")])?.port == 0)
        #expect(accepted([("http.port", "65535")])?.port == 65535)
        #expect(accepted([("http.max_body_size", "1")])?.maxBodySize == 1)
        #expect(accepted([("http.max_body_size", "1GiB")])?.maxBodySize == 1 << 30)
        #expect(accepted([("http.max_body_size", "1024 MiB")])?.maxBodySize == 1 << 30)
        #expect(accepted([("http.trusted_proxies", "10.0.0.0/32,::/0")])?.trustedProxies.map(\.description) == ["10.0.0.0/32", "::/0"])
        #expect(accepted([("http.public_url", "http://localhost:8080//")])?.publicURL == "http://localhost:8080")
        // database.*
        #expect(accepted([("database.target_session_attrs", "any")]) != nil)
        #expect(accepted([("database.url", "postgres://u@db1/steadfast"), ("database.target_session_attrs", "prefer-standby")])?.databaseURL
            == "postgres://u@db1/steadfast?target_session_attrs=prefer-standby")
        #expect(accepted([Self.hosts, ("database.sslmode", "require"), ("database.password", "")])?.databaseURL
            == "postgres://steadfast@db1:5432,db2:5432/steadfast?sslmode=require&target_session_attrs=read-write")
        #expect(accepted([("database.max_connections", "1")])?.databaseMaxConnections == 1)
        #expect(accepted([("database.max_connections", "1000")])?.databaseMaxConnections == 1000)
        let fast = accepted([("database.timeout", "100ms"), ("database.monitor_interval", "100ms"), ("database.standby_max_lag", "0s")])
        #expect(fast?.databaseTimeout == .milliseconds(100) && fast?.databaseMonitorInterval == .milliseconds(100) && fast?.databaseStandbyMaxLag == .zero)
        // storage.*
        #expect(accepted([("storage.max_upload_size", "1")])?.maxUploadSize == 1)
        #expect(accepted([("storage.max_upload_size", "1024GiB")])?.maxUploadSize == 1 << 40)
        #expect(accepted([("storage.client_quota", "0")]) != nil)
        #expect(accepted([("storage.client_quota", "0")])?.storageClientQuota == nil)
        #expect(accepted([("storage.client_quota", "1")])?.storageClientQuota == 1)
        #expect(accepted([("storage.client_quota", "1048576GiB")])?.storageClientQuota == 1 << 50)
        #expect(accepted([("storage.route_refresh_interval", "0s")])?.storageRouteRefreshInterval == .zero)
        let routed = accepted([
            ("storage.targets", #"[{"name":"nas","kind":"local","path":"/srv/nas"}]"#), ("storage.default_target", "nas"),
            ("storage.types", #"{"downloads":{"target":"local","prefix":"dl/"}}"#),
        ])
        #expect(try routed?.storage.resolvedRoutes()[.downloads]?.prefix == "dl/")
        #expect(try routed?.storage.resolvedRoutes()[.ticketAttachments]?.target == "nas")
        // Every type routed: the default target is then never used.
        #expect(accepted([("storage.types", Self.everyType()), ("storage.default_target", "nowhere")]) != nil)
        // session.*
        #expect(accepted([("session.cookie_name", "My_Session-2")])?.sessionCookieName == "My_Session-2")
        let short = accepted([("session.idle_timeout", "1s"), ("session.absolute_timeout", "1s"), ("session.cleanup_interval", "1s")])
        #expect(short?.sessionIdleTimeout == .seconds(1) && short?.sessionAbsoluteTimeout == .seconds(1) && short?.sessionCleanupInterval == .seconds(1))
        #expect(accepted([("session.secure_cookies", "ALWAYS")])?.secureCookies == .always)
        // security.*
        #expect(accepted([("security.secret", Self.secret31 + "s")])?.secret == Self.secret31 + "s")
        #expect(accepted([("security.secret", "")])?.secret == nil)
        #expect(accepted([("security.bcrypt_cost", "4")])?.bcryptCost == 4)
        #expect(accepted([("security.bcrypt_cost", "31")])?.bcryptCost == 31)
        for key in Self.rateLimitKeys {
            let limits: [(String, (Int, Duration)?)] = [("1/1s", (1, .seconds(1))), ("1000000/7d", (1_000_000, .seconds(7 * 86400))), (" 10 / 15m ", (10, .seconds(900))), ("OFF", nil)]
            for (text, expected) in limits {
                guard let configuration = accepted([(key, text)]) else { continue }
                let limit = [
                    configuration.rateLimitLoginPerAccount, configuration.rateLimitLoginPerIP, configuration.rateLimitRegisterPerIP, configuration.rateLimitAPIToken,
                ][Self.rateLimitKeys.firstIndex(of: key)!]
                #expect(limit?.limit == expected?.0 && limit?.window == expected?.1, "\(key)=\(text)")
            }
        }
        // log.*
        #expect(accepted([("log.level", "trace")])?.logLevel == .trace)
        #expect(accepted([("log.level", "critical"), ("log.format", "JSON")])?.logFormat == .json)
        // jobs.*
        let jobs = accepted([
            ("jobs.enabled", "no"), ("jobs.lease", "1s"), ("jobs.poll_interval", "999ms"), ("jobs.history_retention", "1h"),
            ("jobs.time_zone", "Europe/Berlin"), ("jobs.heartbeat.interval", "100ms"), ("jobs.heartbeat.catch_up", "RUN_ALL:1"),
        ])
        #expect(jobs?.jobsEnabled == false && jobs?.jobsLease == .seconds(1) && jobs?.jobsPollInterval == .milliseconds(999))
        #expect(jobs?.jobsHistoryRetention == .seconds(3600) && jobs?.jobsTimeZone.identifier == "Europe/Berlin")
        #expect(jobs?.jobsHeartbeatInterval == .milliseconds(100) && jobs?.jobsHeartbeatCatchUp == "run_all:1")
        #expect(accepted([("jobs.poll_interval", "100ms")])?.jobsPollInterval == .milliseconds(100))
        #expect(accepted([("jobs.heartbeat.interval", "")])?.jobsHeartbeatInterval == nil)
        for policy in ["run_all", "run_once", "skip"] { #expect(accepted([("jobs.heartbeat.catch_up", policy)])?.jobsHeartbeatCatchUp == policy) }
        // billing.* bounds
        let billing = accepted([
            ("billing.invoice_due_days", "365"), ("billing.renewal_lead_days", "0"), ("billing.late_fee_after_days", "365"),
            ("billing.reminder_days", "0,365"), ("billing.suspension_days", "3650"), ("billing.testcard_secret", String(repeating: "t", count: 16)),
        ])?.billing
        #expect(billing?.invoiceDueDays == 365 && billing?.renewalLeadDays == 0 && billing?.lateFeeAfterDays == 365)
        #expect(billing?.reminderDays == [0, 365] && billing?.suspensionDays == 3650 && billing?.testCardSecret?.count == 16)
    }

    /// `database.hosts` as a configuration file writes it: a YAML list (or one string), with
    /// the connection settings beside it, assembled into a URL the database layer accepts.
    @Test func databaseHostsFromAYAMLFile() throws {
        var sources = ConfigSources()
        try sources.loadYAML("""
            database:
              hosts:
                - db1.example.com:5432
                - db2.example.com:5433
              name: billing
              user: app
              password: "p@ss word"
              sslmode: require
              target_session_attrs: prefer-standby
            """, source: "steadfast.yaml")
        let configuration = try NodeConfiguration(sources)
        #expect(configuration.databaseURL
            == "postgres://app:p%40ss%20word@db1.example.com:5432,db2.example.com:5433/billing?sslmode=require&target_session_attrs=prefer-standby")
        guard case .postgres(let target) = try DatabaseURL(configuration.databaseURL) else {
            Issue.record("not a PostgreSQL URL: \(configuration.databaseURL)")
            return
        }
        #expect(target.endpoints.map(\.host) == ["db1.example.com", "db2.example.com"])
        #expect(target.endpoints.map(\.port) == [5432, 5433])
        #expect(target.endpoints.allSatisfy { $0.username == "app" && $0.password == "p@ss word" && $0.database == "billing" && $0.requireTLS })
        #expect(target.sessionAttributes == .preferStandby)

        for form in ["hosts: [db1:5432, db2:5432]", "hosts: db1:5432,db2:5432"] {
            var flow = ConfigSources()
            try flow.loadYAML("database:\n  \(form)\n", source: "steadfast.yaml")
            #expect(try NodeConfiguration(flow).databaseURL == "postgres://steadfast@db1:5432,db2:5432/steadfast?sslmode=disable&target_session_attrs=read-write", "\(form)")
        }
    }

    @Test(arguments: [
        ("database:\n  url: postgres://u@db1/steadfast\n  hosts: [db1:5432]\n", "database.hosts"),
        ("database:\n  hosts: [db1:5432]\n  sslmode: verify-full\n", "database.sslmode"),
        ("database:\n  hosts: [db1:5432]\n  target_session_attrs: primary\n", "database.target_session_attrs"),
        ("database:\n  hosts: [db1:5432]\n  user: \"\"\n", "database.user"),
        ("database:\n  hosts: [db1:5432]\n  name: \"\"\n", "database.name"),
        ("database:\n  hosts:\n    - {host: db1, port: 5432}\n", "database.hosts"),
    ])
    func badDatabaseHostsInAYAMLFileNameTheirKey(_ yaml: String, _ key: String) throws {
        let error = #expect(throws: ConfigError.self) {
            var sources = ConfigSources()
            try sources.loadYAML(yaml, source: "steadfast.yaml")
            _ = try NodeConfiguration(sources)
        }
        #expect(error?.key == key, "\(error.map(String.init(describing:)) ?? "accepted")")
        #expect(error?.source == "steadfast.yaml")
    }
}
