import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Synchronization

/// The two engines the store and scheduler tests run on.
enum EngineKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres
    var description: String { rawValue }
}

/// A fresh migrated database (a temporary SQLite file, or a new database on the shared test
/// PostgreSQL) for `body`; `connections` opens that many separate handles on it (separate pools,
/// as separate nodes would have; SQLite has one).
func withDatabase<T: Sendable>(_ kind: EngineKind, connections: Int = 1, _ body: @Sendable ([any SQLDatabase]) async throws -> T) async throws -> T {
    let logger = Logger(label: "test")
    switch kind {
    case .sqlite:
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-jobs-sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try await SQLiteEngine.open(path: directory.appendingPathComponent("test.sqlite").path, logger: logger)
        do {
            try await Migrator(nodeID: "test").migrate(engine, logger: logger)
            let result = try await body(Array(repeating: engine, count: connections))
            try await engine.close()
            return result
        } catch {
            try? await engine.close()
            throw error
        }
    case .postgres:
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "jobs")
        guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not a postgres URL") }
        let engines = (0..<connections).map { _ in
            PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 8, statementTimeout: .seconds(30), logger: logger)
        }
        let pools = engines.map { engine in Task { try await engine.run() } }
        defer { pools.forEach { $0.cancel() } }
        try await Migrator(nodeID: "test").migrate(engines[0], logger: logger)
        return try await body(engines)
    }
}

/// A clock tests move by hand.
final class ManualClock: WallClock {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000.25)) { current = Mutex(start) }
    func now() -> Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}
