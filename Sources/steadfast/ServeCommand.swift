import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import SteadfastConfig
import SteadfastWeb

/// `steadfast serve`: runs one portal node.
///
/// With no configuration at all it serves on 127.0.0.1:8080 with SQLite and local files under
/// `./steadfast-data/`. Settings come from `--config FILE` (YAML), `STEADFAST_*` environment
/// variables and the flags below, each overriding the one before.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a portal node.",
        discussion: "Every setting is documented in docs/configuration.md; any of them can be given as --set KEY=VALUE."
    )

    @OptionGroup var common: NodeOptions

    func run() async throws {
        let configuration = try common.loadConfiguration()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "steadfast")
        let node = PortalNode(configuration: configuration, logger: logger, metrics: registry, announce: { line in
            // Written straight to the file descriptor: stdout may be a pipe (block-buffered).
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        })
        try await node.run()
    }
}

/// Flags shared by the commands that read the node configuration.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (also STEADFAST_CONFIG).")
    var config: String?
    @Option(name: .long, help: "Address to listen on (http.host).")
    var host: String?
    @Option(name: .long, help: "Port to listen on; 0 picks a free one (http.port).")
    var port: String?
    @Option(name: .long, help: "Database URL: sqlite://PATH or postgres://user:pass@host:port/db (database.url).")
    var database: String?
    @Option(name: .customLong("data-dir"), help: "Directory for the default SQLite database and files (node.data_dir).")
    var dataDir: String?
    @Option(name: .customLong("node-id"), help: "Name of this node (node.id).")
    var nodeID: String?
    @Option(name: .customLong("drain-delay"), help: "How long /readyz answers 503 before shutdown (node.drain_delay), e.g. 5s.")
    var drainDelay: String?
    @Option(name: .customLong("trusted-proxy"), help: "CIDR of a trusted load balancer; repeatable (http.trusted_proxies).")
    var trustedProxies: [String] = []
    @Option(name: .customLong("admin-email"), help: "E-mail of the staff account created on first start (admin.email).")
    var adminEmail: String?
    @Option(name: .customLong("admin-password"), help: "Password of that account (admin.password).")
    var adminPassword: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (log.level).")
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: "text or json (log.format).")
    var logFormat: String?
    @Flag(name: .long, help: "Development mode (node.dev): also offers the simulated testcard gateway unless billing.gateways is set. Never in production.")
    var dev = false
    @Option(name: .customLong("set"), help: "Any setting as KEY=VALUE, e.g. --set session.idle_timeout=15m; repeatable.")
    var settings: [String] = []

    /// Reads file, environment and flags (in that order of precedence), validates, and
    /// bootstraps logging; on a bad value prints the key and reason and exits with status 2.
    func loadConfiguration() throws -> NodeConfiguration {
        do {
            let environment = ProcessInfo.processInfo.environment
            var sources = ConfigSources()
            if let path = config ?? environment["STEADFAST_CONFIG"] {
                try sources.loadFile(at: path)
            }
            sources.loadEnvironment(environment)
            let flags: [(ConfigKey, String?, String)] = [
                (.httpHost, host, "--host"), (.httpPort, port, "--port"), (.databaseURL, database, "--database"),
                (.dataDir, dataDir, "--data-dir"), (.nodeID, nodeID, "--node-id"), (.drainDelay, drainDelay, "--drain-delay"),
                (.adminEmail, adminEmail, "--admin-email"), (.adminPassword, adminPassword, "--admin-password"),
                (.logLevel, logLevel, "--log-level"), (.logFormat, logFormat, "--log-format"),
            ]
            for (key, value, flag) in flags {
                if let value { try sources.set(key.name, to: value, source: flag) }
            }
            if dev { try sources.set(ConfigKey.devMode.name, to: "true", source: "--dev") }
            if !trustedProxies.isEmpty {
                try sources.set(ConfigKey.trustedProxies.name, toList: trustedProxies, source: "--trusted-proxy")
            }
            for setting in settings {
                guard let equals = setting.firstIndex(of: "=") else {
                    throw ConfigError(key: setting, message: "--set expects KEY=VALUE", source: "--set")
                }
                try sources.set(String(setting[..<equals]), to: String(setting[setting.index(after: equals)...]), source: "--set")
            }
            let configuration = try NodeConfiguration(sources)
            LoggingSystem.bootstrap { label in
                switch configuration.logFormat {
                case .json:
                    return JSONLogHandler(label: label, level: configuration.logLevel)
                case .text:
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = configuration.logLevel
                    return handler
                }
            }
            return configuration
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("steadfast: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
