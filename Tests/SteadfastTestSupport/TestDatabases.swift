import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence

/// The two engines persistence, billing and scheduler tests run on.
public enum EngineKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres
    public var description: String { rawValue }
}

/// Opens a fresh database (a temporary SQLite file, or a new database on the shared test
/// PostgreSQL), optionally migrated, and closes it after `body`.
public func withDatabase<T: Sendable>(_ kind: EngineKind, migrate: Bool = true, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
    try await withDatabases(kind, connections: 1, migrate: migrate) { try await body($0[0]) }
}

/// Like ``withDatabase(_:migrate:_:)``, with `connections` separate handles on the same database
/// (separate pools, as separate nodes would have; SQLite has one, repeated).
public func withDatabases<T: Sendable>(
    _ kind: EngineKind, connections: Int, migrate: Bool = true, _ body: @Sendable ([any SQLDatabase]) async throws -> T
) async throws -> T {
    let logger = Logger(label: "test")
    switch kind {
    case .sqlite:
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try await SQLiteEngine.open(path: directory.appendingPathComponent("test.sqlite").path, logger: logger)
        do {
            if migrate { try await Migrator(nodeID: "test").migrate(engine, logger: logger) }
            let result = try await body(Array(repeating: engine, count: connections))
            try await engine.close()
            return result
        } catch {
            try? await engine.close()
            throw error
        }
    case .postgres:
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not a postgres URL") }
        let engines = (0..<connections).map { _ in
            PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 8, statementTimeout: .seconds(30), logger: logger)
        }
        let pools = engines.map { engine in Task { try await engine.run() } }
        defer { pools.forEach { $0.cancel() } }
        if migrate { try await Migrator(nodeID: "test").migrate(engines[0], logger: logger) }
        return try await body(engines)
    }
}

/// Runs `body` with a PostgresEngine on `url`, its pool running for the duration.
public func withPostgres<T: Sendable>(url: String, logger: Logger = Logger(label: "test"), _ body: @Sendable (PostgresEngine) async throws -> T) async throws -> T {
    guard case .postgres(let target) = try DatabaseURL(url) else { throw HarnessError("not a postgres URL") }
    let engine = PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 10, statementTimeout: .seconds(30), logger: logger)
    let pool = Task { try await engine.run() }
    defer { pool.cancel() }
    return try await body(engine)
}
