import Foundation
import Logging
import SteadfastPersistence
import SteadfastTestSupport
import Testing

@Suite struct MigratorTests {
    let logger = Logger(label: "test")

    @Test(arguments: EngineKind.allCases)
    func appliesEachMigrationOnce(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            let first = try await Migrator(nodeID: "a").migrate(db, logger: logger)
            #expect(first == Schema.migrations.map(\.version))
            let second = try await Migrator(nodeID: "b").migrate(db, logger: logger)
            #expect(second.isEmpty)
            let rows = try await db.query("SELECT version, applied_by FROM schema_migrations")
            #expect(rows.count == Schema.migrations.count)
            #expect(try rows.allSatisfy { try $0.string("applied_by") == "a" })
        }
    }

    @Test(arguments: EngineKind.allCases)
    func refusesASchemaNewerThanTheBinary(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            try await db.query("INSERT INTO schema_migrations (version, name, applied_at, applied_by) VALUES (\(9999), \("future"), \(Date()), \("x"))")
            await #expect(throws: DatabaseError.self) { try await Migrator(nodeID: "a").migrate(db, logger: logger) }
        }
    }

    @Test func aFailedMigrationLeavesNothingBehind() async throws {
        try await withDatabase(.postgres, migrate: false) { db in
            let broken = Schema.migrations + [Migration(version: 999, name: "broken") { _ in ["CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL"] }]
            await #expect(throws: (any Error).self) { try await Migrator(migrations: broken, nodeID: "a").migrate(db, logger: logger) }
            let tables = try await db.query("SELECT table_name FROM information_schema.tables WHERE table_name IN ('half', 'accounts')")
            #expect(tables.isEmpty)
        }
    }

    /// Several nodes starting at the same moment against one empty PostgreSQL: every migration
    /// is applied exactly once and nobody fails.
    @Test func concurrentMigratorsOnPostgresApplyEachVersionOnce() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        let url = server.url(database: name)
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for node in 0..<6 {
                group.addTask {
                    try await withPostgres(url: url) { engine in
                        try await Migrator(nodeID: "node-\(node)").migrate(engine, logger: Logger(label: "test"))
                    }
                }
            }
            var all: [Int] = []
            for try await versions in group { all += versions }
            return all
        }
        #expect(applied.sorted() == Schema.migrations.map(\.version))
        let rows = try await server.psql("SELECT count(*), count(DISTINCT applied_by) FROM schema_migrations", database: name)
        #expect(rows == "\(Schema.migrations.count)|1")
    }
}
