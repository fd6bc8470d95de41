import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdCore
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
import Synchronization

/// One portal node: opens the database, sets up, serves HTTP, and shuts down gracefully.
///
/// Process layout: one Hummingbird `Application` with its services, the Hummingbird way — the
/// database pool, the storage route refresher and the scheduler as the application's services,
/// and the node's set-up (``NodeAssembly``: migrations, the cluster secret, the first staff
/// account, then storage, billing and the router) run before its HTTP server starts
/// (`beforeServerStarts`), once the pool runs. The application runs as a service of the group
/// that handles SIGTERM/SIGINT, beside the ``DrainService`` — as Hummingbird's own
/// `runService()` runs it, with the drain added: the drain must act before the application's
/// HTTP server stops, and an application's own group always stops its server first.
///
/// On SIGTERM/SIGINT the group stops its services in reverse order. The drain first: `/readyz`
/// turns 503 for the drain delay while requests are still served. Then the application: its
/// HTTP server stops accepting and finishes in-flight requests, then the scheduler claims
/// nothing more and lets running jobs finish within `jobs.shutdown_grace`, else cancels them
/// and hands their slots to another node, then the refresher, and the database pool last.
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
        let httpClient = S3FileStorage.makeHTTPClient()
        try await withClosing({ try await opened.database.close() }) {
            try await withClosing({ try await httpClient.shutdown() }) {
                try await serve(database: opened.database, pool: opened.service, httpClient: httpClient)
            }
        }
        logger.notice("node stopped", metadata: ["steadfast.node.id": .string(configuration.nodeID)])
    }

    /// The node's HTTP server: HTTP/1.1, each connection handled on its own event loop
    /// (``EventLoopBoundChannel``). The in-process tests serve the node's router with it too.
    package static let httpServer = HTTPServerBuilder.http1OnEventLoop()

    private func serve(database: any SQLDatabase, pool: (any Service)?, httpClient: HTTPClient) async throws {
        let configuration = self.configuration
        let draining = DrainState()
        let assembly = NodeAssembly(node: self, database: database, httpClient: httpClient, draining: draining)
        // Started in this order and stopped in reverse, after the HTTP server: the scheduler,
        // then the refresher, then the pool.
        var services: [any Service] = pool.map { [$0] } ?? []
        services.append(AfterAssembly(assembly) { $0.refresher })
        if configuration.jobsEnabled {
            services.append(AfterAssembly(assembly) { $0.scheduler })
        }
        let announce = self.announce
        var app = Application(
            responder: NodeResponder(assembly: assembly),
            server: Self.httpServer,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
            onServerRunning: { channel in
                draining.markServing()
                let address = channel.localAddress
                let host = address?.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? configuration.host
                let base = "http://\(host):\(address?.port ?? configuration.port)"
                announce("steadfast node \(configuration.nodeID) listening on \(base)")
                if case .created(let email, let password)? = assembly.firstStaff {
                    if let password {
                        announce("created the first staff account: log in at \(base)/login as \(email) with password \(password) (shown once; change it)")
                    } else {
                        announce("created the first staff account \(email): log in at \(base)/login with the configured password")
                    }
                }
            },
            logger: logger
        )
        app.beforeServerStarts { try await assembly.assemble() }
        let drain = DrainService(state: draining, delay: configuration.drainDelay, clock: clock, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(services: [app, drain], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.drainDelay + configuration.shutdownTimeout
            + (configuration.jobsEnabled ? configuration.jobsShutdownGrace + .seconds(10) : .zero)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch is CancellationError where draining.isDraining {
            // SIGTERM/SIGINT during set-up (say while the database is unreachable): set-up gave
            // up, as asked, and nothing was served; a stop, not a failure.
            logger.notice("stopped during set-up", metadata: ["steadfast.node.id": .string(configuration.nodeID)])
        }
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

/// The node's parts that need the database set up first, built once by ``assemble()`` before the
/// HTTP server starts (the application's `beforeServerStarts`), while the pool runs: set-up
/// (``NodeSetup``), storage, billing, the router, the refresher and the scheduler.
final class NodeAssembly: Sendable {
    /// What ``assemble()`` built.
    struct Parts: Sendable {
        let responder: RouterResponder<PortalRequestContext>
        let refresher: StorageRouteRefresher
        let scheduler: Scheduler?
        let firstStaff: AccountService.FirstStaffOutcome
    }

    let node: PortalNode
    let database: any SQLDatabase
    let httpClient: HTTPClient
    /// Set by the ``DrainService``; the application's `/readyz` reports it.
    let draining: DrainState
    private let parts = Mutex<Parts?>(nil)
    private let assembled = OneShotEvent()

    init(node: PortalNode, database: any SQLDatabase, httpClient: HTTPClient, draining: DrainState) {
        self.node = node
        self.database = database
        self.httpClient = httpClient
        self.draining = draining
    }

    /// The router's responder once assembled (the HTTP server starts only after that).
    var responder: RouterResponder<PortalRequestContext>? { parts.withLock { $0?.responder } }

    var firstStaff: AccountService.FirstStaffOutcome? { parts.withLock { $0?.firstStaff } }

    /// The parts, once assembled; throws `CancellationError` if the task is cancelled first (the
    /// node stopped, or its set-up failed).
    func waitForParts() async throws -> Parts {
        await assembled.wait()
        guard let built = parts.withLock({ $0 }) else { throw CancellationError() }
        return built
    }

    /// Sets up (retrying while the database is unreachable; given up on a graceful shutdown),
    /// then builds the rest.
    func assemble() async throws {
        let configuration = node.configuration
        let logger = node.logger
        let accounts = AccountService(
            database: database, hasher: PasswordHasher(cost: configuration.bcryptCost), clock: node.clock,
            limiter: RateLimiter(database: database, limits: configuration.rateLimits, clock: node.clock),
            settings: configuration.accountSettings
        )
        let setup = NodeSetup(configuration: configuration, database: database, accounts: accounts, clock: node.clock, logger: logger)
        let outcome = try await cancelWhenGracefulShutdown { try await setup.runRetrying() }

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
        var scheduler: Scheduler?
        if configuration.jobsEnabled {
            let attachments = InvoiceMailAttachments(billing: billing, library: pages.library)
            let jobs = try NodeJobs.registry(
                configuration: configuration, database: database, clock: node.clock, accounts: accounts, recurring: billing.recurring, capture: billing.capture, storage: registry,
                catalog: catalog, attachments: attachments
            )
            scheduler = Scheduler(
                jobs: jobs, database: database, nodeID: configuration.nodeID, settings: NodeJobs.settings(configuration), clock: node.clock, logger: logger
            )
        }
        let built = Parts(responder: router.buildResponder(), refresher: refresher, scheduler: scheduler, firstStaff: outcome.firstStaff)
        parts.withLock { $0 = built }
        assembled.fire()
    }
}

/// The application's responder: the router ``NodeAssembly`` builds before the HTTP server starts
/// (Hummingbird takes an application's responder when the application is made, and the router
/// needs the database set up first).
struct NodeResponder: HTTPResponder {
    typealias Context = PortalRequestContext
    let assembly: NodeAssembly

    func respond(to request: Request, context: PortalRequestContext) async throws -> Response {
        // Always there: the server starts accepting only once the node is assembled.
        guard let responder = assembly.responder else { throw HTTPError(.serviceUnavailable) }
        let response = try await responder.respond(to: request, context: context)
        // Measured, not derived (docs/billing.md, "One write per response" and "A request on one
        // thread"): letting the other ready tasks run once before the answer is written. First
        // measured with requests on the cooperative pool, where it took the SQLite invoice list's
        // p99, with the two cores saturated by the node, wrk and the database, from 62–78 ms to
        // 18–28 ms. With each connection on its event loop it still pays: node CPU per page
        // 416–443 µs on SQLite and 585–631 µs on PostgreSQL with it, 474–541 and 663–708 µs
        // without (three alternated runs each). A guess at why, not measured: the loop then runs
        // the other requests' ready work first, and answers go out in bursts, one wake-up of the
        // peers for several.
        await Task.yield()
        return response
    }
}

/// One of the application's services that needs the assembled node (the refresher, the
/// scheduler): waits for ``NodeAssembly/assemble()``, then runs it. Listed as the application's
/// service from the start, so the application's group stops it in its place (after the HTTP
/// server, before the pool). Stopped before the node was assembled, it runs nothing.
struct AfterAssembly: Service {
    let assembly: NodeAssembly
    let service: @Sendable (NodeAssembly.Parts) -> (any Service)?

    init(_ assembly: NodeAssembly, _ service: @escaping @Sendable (NodeAssembly.Parts) -> (any Service)?) {
        self.assembly = assembly
        self.service = service
    }

    func run() async throws {
        let parts: NodeAssembly.Parts
        do {
            parts = try await cancelWhenGracefulShutdown { try await assembly.waitForParts() }
        } catch is CancellationError {
            return
        }
        guard let service = service(parts) else {
            // Nothing to run: stay until the node stops (a service that returns early would stop
            // the application).
            try? await gracefulShutdown()
            return
        }
        try await service.run()
    }
}
