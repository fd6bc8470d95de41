import Logging
import ServiceLifecycle
import SteadfastDomain

/// Opens the database a ``DatabaseURL`` names.
public enum DatabaseConnector {
    /// An open database and the long-running service (if any) that must run alongside it.
    public struct Opened: Sendable {
        public let database: any SQLDatabase
        /// The connection pools and role monitor for PostgreSQL; `nil` for SQLite.
        public let service: (any Service)?
    }

    /// Settings for PostgreSQL.
    public struct PostgresOptions: Sendable {
        public var maximumConnections = 20
        public var requestTimeout: Duration = .seconds(2)
        public var maxStandbyLag: Duration = .seconds(5)
        public var monitorInterval: Duration = .seconds(1)
        /// The node's clock: the role monitor's schedule and timers run on it.
        public var clock: any WallClock = SystemWallClock()
        public init() {}
    }

    public static func open(_ url: DatabaseURL, postgres: PostgresOptions = .init(), logger: Logger) async throws -> Opened {
        switch url {
        case .sqlite(let path):
            return Opened(database: try await SQLiteEngine.open(path: path, logger: logger), service: nil)
        case .postgres(let target):
            let cluster = PostgresCluster(
                target: target, maximumConnections: postgres.maximumConnections, requestTimeout: postgres.requestTimeout,
                maxStandbyLag: postgres.maxStandbyLag, monitorInterval: postgres.monitorInterval, clock: postgres.clock, logger: logger
            )
            return Opened(database: cluster, service: cluster)
        }
    }
}
