import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Synchronization
import Testing

/// The two engines every persistence test runs against.
enum EngineKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres
    var testDescription: String { rawValue }
}

/// Opens a fresh, empty database (a temporary SQLite file, or a new database on the shared
/// test PostgreSQL server), optionally migrated, and closes it after `body`.
func withDatabase<T: Sendable>(_ kind: EngineKind, migrate: Bool = true, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
    let logger = Logger(label: "test")
    switch kind {
    case .sqlite:
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try await SQLiteEngine.open(path: directory.appendingPathComponent("test.sqlite").path, logger: logger)
        do {
            if migrate { try await Migrator(nodeID: "test").migrate(engine, logger: logger) }
            let result = try await body(engine)
            try await engine.close()
            return result
        } catch {
            try? await engine.close()
            throw error
        }
    case .postgres:
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        return try await withPostgres(url: server.url(database: name)) { engine in
            if migrate { try await Migrator(nodeID: "test").migrate(engine, logger: logger) }
            return try await body(engine)
        }
    }
}

/// Runs `body` with a PostgresEngine on `url`, its pool running for the duration.
func withPostgres<T: Sendable>(url: String, _ body: @Sendable (PostgresEngine) async throws -> T) async throws -> T {
    guard case .postgres(let target) = try DatabaseURL(url) else { throw HarnessError("not a postgres URL") }
    let engine = PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 10, statementTimeout: .seconds(30), logger: Logger(label: "test"))
    let pool = Task { try await engine.run() }
    defer { pool.cancel() }
    return try await body(engine)
}

/// A clock tests move by hand.
final class ManualClock: WallClock {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }
    func now() -> Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
