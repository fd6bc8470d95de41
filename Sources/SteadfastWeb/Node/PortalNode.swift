import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import SteadfastConcurrency
import SteadfastConfig
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence
import SteadfastServices
import SteadfastSessions
import SteadfastStorage

/// One portal node: opens the database, sets up, serves HTTP, and shuts down gracefully.
///
/// Process layout (one ServiceGroup, stopped in reverse order on SIGTERM/SIGINT):
/// `[database pool, node, drain]`, where the node is one Hummingbird `Application` whose own group
/// runs its services `[storage route refresher, scheduler]` and its HTTP server. The drain stops
/// first: `/readyz` turns 503 for the drain delay while requests are still served. Then the
/// application: its HTTP server stops accepting and finishes in-flight requests, then the
/// scheduler claims nothing more and lets running jobs finish within `jobs.shutdown_grace`, else
/// cancels them and hands their slots to another node, then the refresher. The database pool
/// closes last.
public struct PortalNode: Sendable {
    public let configuration: NodeConfiguration
    public let logger: Logger
    public let clock: any WallClock
    public let metrics: PrometheusCollectorRegistry
    /// Receives the lines a person starting the node should see (address, first log-in).
    public let announce: @Sendable (String) -> Void

    public init(
        configuration: NodeConfiguration, logger: Logger, clock: any WallClock = SystemWallClock(),
        metrics: PrometheusCollectorRegistry, announce: @escaping @Sendable (String) -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        self.announce = announce
    }

    /// Runs until SIGTERM/SIGINT (then drains and returns) or a fatal error (throws).
    public func run() async throws {
        let configuration = self.configuration
        try Self.prepareDirectory(configuration.storageLocalPath, what: "storage.local_path")
        let url = try Self.databaseURL(configuration)
        if case .sqlite(let path?) = url {
            try Self.prepareDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path, what: "database.url")
        }
        var postgres = DatabaseConnector.PostgresOptions()
        postgres.maximumConnections = configuration.databaseMaxConnections
        postgres.requestTimeout = configuration.databaseTimeout
        postgres.maxStandbyLag = configuration.databaseStandbyMaxLag
        postgres.monitorInterval = configuration.databaseMonitorInterval
        postgres.clock = clock
        let opened = try await DatabaseConnector.open(url, postgres: postgres, logger: logger)
        let draining = DrainState()
        var services: [any Service] = []
        if let pool = opened.service { services.append(pool) }
        services.append(NodeService(node: self, database: opened.database, draining: draining))
        services.append(DrainService(state: draining, delay: configuration.drainDelay, clock: clock, logger: logger))
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.drainDelay + configuration.shutdownTimeout
            + (configuration.jobsEnabled ? configuration.jobsShutdownGrace + .seconds(10) : .zero)
        try await withClosing({ try await opened.database.close() }) {
            try await ServiceGroup(configuration: groupConfiguration).run()
        }
        logger.notice("node stopped", metadata: ["steadfast.node.id": .string(configuration.nodeID)])
    }

    /// The configured database URL, or a configuration error naming `database.url` (the node
    /// and the operator commands read it the same way).
    public static func databaseURL(_ configuration: NodeConfiguration) throws -> DatabaseURL {
        do {
            return try DatabaseURL(configuration.databaseURL)
        } catch {
            throw ConfigError(key: ConfigKey.databaseURL.name, message: error.message)
        }
    }

    static func prepareDirectory(_ path: String, what key: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ConfigError(key: key, message: "\(path) exists but is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw ConfigError(key: key, message: "cannot create directory \(path): \(error.localizedDescription)")
            }
        }
    }
}

/// The node proper: set-up, then the HTTP application with its services.
struct NodeService: Service {
    let node: PortalNode
    let database: any SQLDatabase
    /// Set by the ``DrainService``; the application's `/readyz` reports it.
    let draining: DrainState

    func run() async throws {
        let configuration = node.configuration
        let logger = node.logger
        let accounts = AccountService(
            database: database, hasher: PasswordHasher(cost: configuration.bcryptCost), clock: node.clock,
            limiter: RateLimiter(database: database, limits: configuration.rateLimits, clock: node.clock),
            settings: configuration.accountSettings
        )
        let setup = NodeSetup(configuration: configuration, database: database, accounts: accounts, clock: node.clock, logger: logger)
        let outcome = try await cancelWhenGracefulShutdown { try await setup.runRetrying() }

        let httpClient = S3FileStorage.makeHTTPClient()
        try await withClosing({ try await httpClient.shutdown() }) {
            try await serve(outcome: outcome, accounts: accounts, httpClient: httpClient)
        }
    }

    /// Storage, routes, then the application with its services, until the service group stops.
    private func serve(outcome: NodeSetup.Outcome, accounts: AccountService, httpClient: HTTPClient) async throws {
        let configuration = node.configuration
        let logger = node.logger
        let registry: StorageRegistry
        do {
            registry = try StorageRegistry(configuration: configuration.storage, linkSecret: outcome.secret, httpClient: httpClient, clock: node.clock, logger: logger)
        } catch {
            throw ConfigError(key: ConfigKey.storageTargets.name, message: "\(error)")
        }
        let catalog = SQLFileCatalog(database: database, clock: node.clock)
        let refresher = StorageRouteRefresher(registry: registry, catalog: catalog, interval: configuration.storageRouteRefreshInterval, clock: node.clock, logger: logger)
        await refresher.refresh()
        for (name, target) in registry.targets {
            guard let local = target as? LocalFileStorage else { continue }
            if let removed = try? await local.removeAbandonedTemporaryFiles(), removed > 0 {
                logger.info("removed abandoned temporary upload files", metadata: ["steadfast.storage.target": "\(name)", "count": "\(removed)"])
            }
        }

        let readiness = Readiness(nodeID: configuration.nodeID, checks: [.database(database), .storage(registry)], draining: draining)
        let files = FileService(database: database, registry: registry, clock: node.clock, ownerQuota: configuration.storageClientQuota, logger: logger)
        let billing = try BillingWeb(configuration: configuration, database: database, clock: node.clock, secret: outcome.secret)
        let pages = try await PageRenderer.load(staffNotices: PortalRouter.staffNotices(configuration))
        let router = try await PortalRouter(
            configuration: configuration, database: database, accounts: accounts, files: files, billing: billing, readiness: readiness,
            secret: outcome.secret, clock: node.clock, metrics: node.metrics
        ).build(pages: pages)

        for notice in PortalRouter.staffNotices(configuration) {
            logger.warning("\(notice)", metadata: ["steadfast.node.id": .string(configuration.nodeID)])
        }
        // The application's own group runs these before its HTTP server and stops them after it
        // (last-first): the server stops accepting and finishes in-flight requests, and only
        // then does the scheduler finish or hand back its jobs, so a long job never delays the
        // load balancer's notice (the drain, outside the application, has run before).
        var services: [any Service] = [refresher]
        if configuration.jobsEnabled {
            let attachments = InvoiceMailAttachments(billing: billing, library: pages.library)
            let jobs = try NodeJobs.registry(
                configuration: configuration, database: database, clock: node.clock, accounts: accounts, recurring: billing.recurring, capture: billing.capture, storage: registry,
                catalog: catalog, attachments: attachments
            )
            services.append(Scheduler(
                jobs: jobs, database: database, nodeID: configuration.nodeID, settings: NodeJobs.settings(configuration), clock: node.clock, logger: logger
            ))
        }
        let announce = node.announce
        let firstStaff = outcome.firstStaff
        let draining = self.draining
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
            onServerRunning: { channel in
                draining.markServing()
                let address = channel.localAddress
                let host = address?.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? configuration.host
                let base = "http://\(host):\(address?.port ?? configuration.port)"
                announce("steadfast node \(configuration.nodeID) listening on \(base)")
                if case .created(let email, let password) = firstStaff {
                    if let password {
                        announce("created the first staff account: log in at \(base)/login as \(email) with password \(password) (shown once; change it)")
                    } else {
                        announce("created the first staff account \(email): log in at \(base)/login with the configured password")
                    }
                }
            },
            logger: logger
        )
        try await app.run()
    }
}

