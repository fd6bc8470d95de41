import Foundation
import Logging
import PostgresNIO
@testable import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// Which statements get a prepared statement's name (pure).
@Suite struct StatementNamesTests {
    @Test func aStatementKeepsItsNameAndTypesAreTheKeyToo() {
        let names = StatementNames(capacity: 10)
        let first = names.name(for: "SELECT a FROM t WHERE b = $1", parameterTypes: [.int8])
        #expect(first != nil)
        #expect(names.name(for: "SELECT a FROM t WHERE b = $1", parameterTypes: [.int8]) == first)
        // The same text with a NULL bound (a type left to the server) is another statement.
        let withNull = names.name(for: "SELECT a FROM t WHERE b = $1", parameterTypes: [.null])
        #expect(withNull != nil && withNull != first)
        #expect(names.name(for: "SELECT a FROM t WHERE b = $1 ", parameterTypes: [.int8]) != first)
        #expect(names.count == 3)
    }

    @Test func onlyDataStatementsAreNamed() {
        let names = StatementNames(capacity: 10)
        for text in ["SELECT 1", "  select 1", "\n  INSERT INTO t VALUES ($1)", "UPDATE t SET a = 1", "delete FROM t", "WITH x AS (SELECT 1) SELECT * FROM x"] {
            #expect(names.name(for: text, parameterTypes: []) != nil, "\(text)")
        }
        for text in ["BEGIN", "COMMIT", "ROLLBACK", "CREATE TABLE t (a int)", "ALTER TABLE t ADD b int", "SET lock_timeout = 0", "SELECTED", ""] {
            #expect(names.name(for: text, parameterTypes: []) == nil, "\(text)")
        }
    }

    @Test func namesStopAtTheCapacityAndAreNeverReused() {
        let names = StatementNames(capacity: 3)
        let given = (1...5).map { names.name(for: "SELECT \($0)", parameterTypes: []) }
        #expect(given.prefix(3).allSatisfy { $0 != nil })
        #expect(Set(given.prefix(3).compactMap { $0 }).count == 3)
        #expect(given.suffix(2).allSatisfy { $0 == nil })
        // A statement named before the registry filled keeps its name.
        #expect(names.name(for: "SELECT 2", parameterTypes: []) == given[1])
    }

    @Test func aForgottenStatementGetsAFreshNameWithinTheCapacity() throws {
        let names = StatementNames(capacity: 3)
        let first = try #require(names.name(for: "SELECT * FROM t", parameterTypes: []))
        names.forget(first)
        let second = try #require(names.name(for: "SELECT * FROM t", parameterTypes: []))
        #expect(second != first)
        #expect(names.count == 2)
        // The forgotten name still counts: it stays prepared on the connections that have it.
        #expect(names.name(for: "SELECT 1", parameterTypes: []) != nil)
        #expect(names.name(for: "SELECT 2", parameterTypes: []) == nil)
    }

    @Test func onlyFailuresThatPreparationCannotRaiseLeaveTheConnectionAlone() {
        for state in ["23505", "23503", "22012", "22P02"] {
            #expect(!StatementNames.mayHaveBeenRemembered(sqlState: state), "\(state)")
        }
        // Aborted transaction, undefined table, plan changed, query cancelled, deadlock, a
        // standby's conflict with recovery.
        for state in ["25P02", "42P01", "0A000", "57014", "40P01", "40001"] {
            #expect(StatementNames.mayHaveBeenRemembered(sqlState: state), "\(state)")
        }
        #expect(StatementNames.mayHaveBeenRemembered(sqlState: nil))
        #expect(StatementNames.mayHaveBeenRemembered(CancellationError()))
    }
}

/// Named prepared statements on a real PostgreSQL, each test on an engine with one connection so
/// that every statement meets what the ones before it left on that connection.
@Suite(.timeLimit(.minutes(2))) struct PreparedStatementsLiveTests {
    private func withOneConnection<T: Sendable>(_ body: @Sendable (PostgresEngine, PostgresServer, String) async throws -> T) async throws -> T {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not a postgres URL") }
        let engine = PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 1, statementTimeout: .seconds(30), logger: Logger(label: "test"))
        let pool = Task { try await engine.run() }
        defer { pool.cancel() }
        return try await body(engine, server, name)
    }

    @Test func aRepeatedStatementIsPreparedOnceAndRunByName() async throws {
        try await withOneConnection { engine, _, _ in
            for value in Int64(1)...6 {
                let rows = try await engine.query("SELECT \(value) + 1 AS v")
                #expect(try rows.first?.int("v") == value + 1)
            }
            let name = try #require(engine.statementNames.name(for: "SELECT $1 + 1 AS v", parameterTypes: [.int8]))
            let prepared = try await engine.query("SELECT name, statement FROM pg_prepared_statements WHERE statement = 'SELECT $1 + 1 AS v'")
            #expect(prepared.count == 1)
            #expect(try prepared.first?.string("name") == name)
        }
    }

    @Test func aNullAndAValueForTheSameParameterBothRun() async throws {
        try await withOneConnection { engine, _, _ in
            try await engine.query("CREATE TABLE numbers (n int4)")
            // Bound NULL first, the parameter's type is the server's guess (int4); the value
            // after it is sent as int8, so it must not reuse that statement.
            for value in [Int64?.none, 7, nil, 8] {
                try await engine.query("INSERT INTO numbers (n) VALUES (\(value))")
            }
            let rows = try await engine.query("SELECT count(*) AS all_rows, sum(n) AS total FROM numbers")
            #expect(try rows.first?.int("all_rows") == 4)
            #expect(try rows.first?.int("total") == 15)
        }
    }

    @Test func aPreparationThatFailedInAnAbortedTransactionDoesNotStick() async throws {
        try await withOneConnection { engine, _, _ in
            let error = await #expect(throws: DatabaseError.self) {
                try await engine.transaction { tx in
                    _ = try? await tx.query("SELECT 1 / \(Int64(0)) AS x")
                    // The transaction is aborted: preparing this statement fails (25P02).
                    _ = try await tx.query("SELECT \(Int64(5)) + 2 AS y")
                }
            }
            #expect(error?.code == "25P02", "\(String(describing: error))")
            // Outside it, the same statement runs: the failed preparation was not kept for it.
            let rows = try await engine.query("SELECT \(Int64(5)) + 2 AS y")
            #expect(try rows.first?.int("y") == 7)
        }
    }

    @Test func aTableChangedUnderAPreparedSelectStarCanBeRunAgainOnTheSameConnection() async throws {
        try await withOneConnection { engine, server, database in
            try await engine.query("CREATE TABLE plans (a int8)")
            try await engine.query("INSERT INTO plans (a) VALUES (\(Int64(1)))")
            for _ in 0..<2 { _ = try await engine.query("SELECT * FROM plans WHERE a = \(Int64(1))") }
            let backend = try await engine.query("SELECT pg_backend_pid() AS pid").first?.int("pid")
            // What a rolling upgrade's migration does on another node.
            _ = try await server.psql("ALTER TABLE plans ADD COLUMN b int8 DEFAULT 9", database: database)
            // Refused once, as safe to run again (a cluster does so by itself)...
            let error = await #expect(throws: DatabaseError.self) {
                try await engine.query("SELECT * FROM plans WHERE a = \(Int64(1))")
            }
            #expect(error?.kind == .serializationFailure, "\(String(describing: error))")
            // ...and then it runs, prepared afresh on the same connection (none was closed).
            let rows = try await engine.query("SELECT * FROM plans WHERE a = \(Int64(1))")
            #expect(try rows.first?.int("b") == 9)
            #expect(try await engine.query("SELECT pg_backend_pid() AS pid").first?.int("pid") == backend)
        }
    }

    @Test func aClusterRunsAStatementAgainWhenItsTableChanged() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        guard case .postgres(let target) = try DatabaseURL(server.url(database: database)) else { throw HarnessError("not a postgres URL") }
        let cluster = PostgresCluster(target: target, maximumConnections: 1, requestTimeout: .seconds(20), logger: Logger(label: "test"))
        let run = Task { try await cluster.run() }
        defer { run.cancel() }
        try await cluster.query("CREATE TABLE plans (a int8)")
        try await cluster.query("INSERT INTO plans (a) VALUES (\(Int64(1)))")
        for _ in 0..<2 { _ = try await cluster.query("SELECT * FROM plans WHERE a = \(Int64(1))") }
        let prepared = try await cluster.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = 'SELECT * FROM plans WHERE a = $1'")
        #expect(try prepared.first?.int("n") == 1)
        _ = try await server.psql("ALTER TABLE plans ADD COLUMN b int8 DEFAULT 9", database: database)
        // The caller sees no error: the cluster runs it again on a fresh connection.
        let rows = try await cluster.query("SELECT * FROM plans WHERE a = \(Int64(1))")
        #expect(try rows.first?.int("b") == 9)
    }
}
