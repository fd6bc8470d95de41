import Logging
import ServiceLifecycle

/// Opens the database a ``DatabaseURL`` names.
public enum DatabaseConnector {
    /// An open database and the long-running service (if any) that must run alongside it.
    public struct Opened: Sendable {
        public let database: any SQLDatabase
        /// The connection pool service for PostgreSQL; `nil` for SQLite.
        public let service: (any Service)?
    }

    public static func open(_ url: DatabaseURL, maximumConnections: Int = 20, statementTimeout: Duration = .seconds(5), logger: Logger) async throws -> Opened {
        switch url {
        case .sqlite(let path):
            return Opened(database: try await SQLiteEngine.open(path: path, logger: logger), service: nil)
        case .postgres(let endpoint):
            let engine = PostgresEngine(endpoint: endpoint, maximumConnections: maximumConnections, statementTimeout: statementTimeout, logger: logger)
            return Opened(database: engine, service: engine)
        }
    }
}
