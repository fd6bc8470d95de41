import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence

/// Opens the node's database for an operator command (`storage`, `db`...): runs the connection
/// pool (and PostgreSQL role monitor) for the duration of `body`, and brings the schema up to
/// date first so the command finds every table.
enum OperatorDatabase {
    static func with<T: Sendable>(
        _ configuration: NodeConfiguration, logger: Logger, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let url: DatabaseURL
        do {
            url = try DatabaseURL(configuration.databaseURL)
        } catch {
            throw ConfigError(key: ConfigKey.databaseURL.name, message: error.message)
        }
        var postgres = DatabaseConnector.PostgresOptions()
        postgres.requestTimeout = max(configuration.databaseTimeout, .seconds(10))
        postgres.maxStandbyLag = configuration.databaseStandbyMaxLag
        let opened = try await DatabaseConnector.open(url, postgres: postgres, logger: logger)
        defer { Task { try? await opened.database.close() } }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            if let pool = opened.service {
                group.addTask {
                    try await pool.run()
                    return nil
                }
            }
            group.addTask {
                try await Migrator(nodeID: "\(configuration.nodeID)-cli").migrate(opened.database, logger: logger)
                return try await body(opened.database)
            }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw ConfigError(key: ConfigKey.databaseURL.name, message: "the database connection ended unexpectedly")
        }
    }

    /// The cluster secret: configured, or the one the first node stored in the database.
    static func secret(_ configuration: NodeConfiguration, database: any SQLDatabase) async throws -> String? {
        if let secret = configuration.secret { return secret }
        return try await SettingsRepository(database: database).value(for: "cluster_secret")
    }
}
