import AsyncHTTPClient
import Hummingbird
import Logging
import Prometheus
import SteadfastConcurrency
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage
import SteadfastWeb

extension PortalRouter {
    /// One registered route: method and path template (`/api/v1/invoices/{id}`).
    struct RouteEntry: Sendable, Hashable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
    }

    /// Every route a node registers, read from a router built on a throw-away in-memory
    /// database. Lets tests check the OpenAPI document and the authorisation walk against the
    /// real route table, so neither can silently miss a route. (Test code: the node never asks.)
    static func registeredRoutes() async throws -> [RouteEntry] {
        let logger = Logger(label: "routes")
        let database = try await SQLiteEngine.open(path: nil, logger: logger)
        return try await withClosing({ try await database.close() }) {
            try await routes(database: database, logger: logger)
        }
    }

    private static func routes(database: SQLiteEngine, logger: Logger) async throws -> [RouteEntry] {
        var configuration = try NodeConfiguration.defaults()
        // Every route a node can register: the test card gateway's webhook only exists where the
        // gateway is enabled.
        configuration.billing.gateways.append(TestCardGateway.name)
        let accounts = AccountService(database: database, hasher: PasswordHasher(cost: 4))
        let registry = try StorageRegistry(configuration: configuration.storage, linkSecret: String(repeating: "r", count: 40), httpClient: HTTPClient.shared)
        let files = FileService(database: database, registry: registry, logger: logger)
        let secret = String(repeating: "r", count: 40)
        let billing = try BillingWeb(configuration: configuration, database: database, clock: SystemWallClock(), secret: secret)
        let router = try await PortalRouter(
            configuration: configuration, database: database, accounts: accounts, files: files, billing: billing,
            readiness: Readiness(nodeID: "routes", checks: []), secret: secret, clock: SystemWallClock(), metrics: PrometheusCollectorRegistry()
        ).build()
        return router.routes.map { RouteEntry(method: $0.method.rawValue, path: "\($0.path)".hasPrefix("/") ? "\($0.path)" : "/\($0.path)") }
    }
}
