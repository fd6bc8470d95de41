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

    /// The tables of the database among `names` (information_schema on PostgreSQL, sqlite_master on SQLite).
    func tables(_ db: any SQLDatabase, among names: Set<String>) async throws -> Set<String> {
        let rows: [SQLRow]
        if db.dialect == .postgres {
            rows = try await db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()")
        } else {
            rows = try await db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        return Set(try rows.map { try $0.string("name") }).intersection(names)
    }

    /// A migration failing part-way on an empty database: the whole run is one transaction, so
    /// neither the failed migration's first table nor any earlier migration's is left, and a
    /// fixed binary then migrates from scratch.
    @Test(arguments: EngineKind.allCases)
    func aFailedMigrationLeavesNothingBehind(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            let broken = Schema.migrations + [Migration(version: 999, name: "broken") { _ in ["CREATE TABLE half (x INTEGER)", "INSERT INTO half (x) VALUES (1)", "THIS IS NOT SQL"] }]
            await #expect(throws: (any Error).self) { try await Migrator(migrations: broken, nodeID: "a").migrate(db, logger: logger) }
            #expect(try await tables(db, among: ["half", "accounts", "schema_migrations"]).isEmpty)
            let applied = try await Migrator(nodeID: "b").migrate(db, logger: logger)
            #expect(applied == Schema.migrations.map(\.version))
            #expect(try await tables(db, among: ["half"]).isEmpty)
        }
    }

    /// An upgrade whose second new migration fails at run time (a constraint, not a syntax
    /// error) on an up-to-date database: neither new migration's tables nor versions remain,
    /// the schema already there is untouched, and the fixed upgrade then applies both.
    @Test(arguments: EngineKind.allCases)
    func aFailedUpgradeRecordsNoVersionAndKeepsTheSchema(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let fine = Migration(version: 998, name: "fine") { _ in ["CREATE TABLE fine (x INTEGER)", "INSERT INTO fine (x) VALUES (1)"] }
            let broken = Migration(version: 999, name: "broken") { _ in ["CREATE TABLE half (x INTEGER NOT NULL)", "INSERT INTO half (x) VALUES (NULL)"] }
            await #expect(throws: (any Error).self) { try await Migrator(migrations: Schema.migrations + [fine, broken], nodeID: "a").migrate(db, logger: logger) }
            #expect(try await tables(db, among: ["fine", "half"]).isEmpty)
            #expect(try await tables(db, among: ["accounts", "schema_migrations"]) == ["accounts", "schema_migrations"])
            let versions = try await db.query("SELECT version FROM schema_migrations").map { Int(try $0.int("version")) }
            #expect(versions.sorted() == Schema.migrations.map(\.version))

            let fixed = Migration(version: 999, name: "fixed") { _ in ["CREATE TABLE half (x INTEGER NOT NULL)"] }
            let applied = try await Migrator(migrations: Schema.migrations + [fine, fixed], nodeID: "b").migrate(db, logger: logger)
            #expect(applied == [998, 999])
            #expect(try await tables(db, among: ["fine", "half"]) == ["fine", "half"])
            #expect(try await db.query("SELECT x FROM fine").count == 1)
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
