import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage
import SteadfastTestSupport
import SteadfastWeb

/// The node's own router (`PortalRouter`) over a migrated SQLite database, on `clock`, served in
/// process by `server` (by default as the node serves it) on a loopback port for the length of
/// `body`. `settings` are configuration keys on top of the defaults; rate limits are off and files
/// go to a temporary directory.
func withInProcessPortal<T: Sendable>(
    clock: ManualClock, settings: [String: String] = [:], server: HTTPServerBuilder = PortalNode.httpServer,
    _ body: @Sendable (HTTPTestClient, any SQLDatabase) async throws -> T
) async throws -> T {
    try await withDatabase(.sqlite) { database in
        var sources = ConfigSources()
        try sources.set("storage.local_path", to: try TestPaths.makeTemporaryDirectory(prefix: "steadfast-portal").path, source: "test")
        for key in ["login_per_account", "login_per_ip", "register_per_ip", "api_token"] {
            try sources.set("security.rate_limit.\(key)", to: "off", source: "test")
        }
        for (key, value) in settings { try sources.set(key, to: value, source: "test") }
        let configuration = try NodeConfiguration(sources)
        let logger = Logger(label: "in-process-portal")
        let secret = String(repeating: "s", count: 40)
        let accounts = AccountService(database: database, hasher: PasswordHasher(cost: 4), clock: clock)
        let registry = try StorageRegistry(configuration: configuration.storage, linkSecret: secret, httpClient: HTTPClient.shared, clock: clock)
        let router = try await PortalRouter(
            configuration: configuration, database: database, accounts: accounts,
            files: FileService(database: database, registry: registry, clock: clock, logger: logger),
            billing: try BillingWeb(configuration: configuration, database: database, clock: clock, secret: secret),
            readiness: Readiness(nodeID: "in-process", checks: []), secret: secret, clock: clock, metrics: PrometheusCollectorRegistry()
        ).build()
        return try await withInProcessServer(router, server: server, logger: logger) { client in try await body(client, database) }
    }
}

/// Serves `router` on a free loopback port for the length of `body`, which gets a client for
/// it; the server is a child task, stopped when `body` returns or throws.
func withInProcessServer<T: Sendable, Context: InitializableFromSource<ApplicationRequestContextSource>>(
    _ router: Router<Context>, server: HTTPServerBuilder = PortalNode.httpServer, logger: Logger, _ body: @Sendable (HTTPTestClient) async throws -> T
) async throws -> T {
    let (ports, port) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            port.yield(channel.localAddress?.port ?? 0)
            port.finish()
        },
        logger: logger
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await app.runService(gracefulShutdownSignals: [])
            return nil
        }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else { throw HarnessError("the in-process server did not start") }
        return try await body(HTTPTestClient(baseURL: "http://127.0.0.1:\(bound)"))
    }
}
