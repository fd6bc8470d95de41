import Foundation
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// The SQLite engine's own promises: reads on reader connections run beside the writer and see
/// every committed write; write statements are always sent to the writer; cached prepared
/// statements give the right answer for any binds.
@Suite(.timeLimit(.minutes(1))) struct SQLiteEngineTests {
    @Test func aReadAnswersWhileATransactionHoldsTheWriter() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            try await db.query("CREATE TABLE t (v INTEGER)")
            try await db.query("INSERT INTO t (v) VALUES (1)")
            let (entered, enteredSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let transaction = Task {
                try await db.transaction { tx in
                    try await tx.query("INSERT INTO t (v) VALUES (2)")
                    enteredSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in entered { break }
            // The writer is held by the open transaction: the read is answered anyway, from the
            // last committed state (a single-connection engine would wait here for ever).
            #expect(try await db.first("SELECT count(*) AS n FROM t")?.int("n") == 1)
            releaseSignal.yield()
            try await transaction.value
            #expect(try await db.first("SELECT count(*) AS n FROM t")?.int("n") == 2)
        }
    }

    @Test func everyReadSeesTheWritesCommittedBeforeIt() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            try await db.query("CREATE TABLE log (writer INTEGER NOT NULL, n INTEGER NOT NULL)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for n in 1...50 {
                            if n.isMultiple(of: 2) {
                                try await db.query("INSERT INTO log (writer, n) VALUES (\(writer), \(n))")
                            } else {
                                try await db.transaction { tx in try await tx.query("INSERT INTO log (writer, n) VALUES (\(writer), \(n))") }
                            }
                            let latest = try await db.first("SELECT max(n) AS n FROM log WHERE writer = \(writer)")?.int("n")
                            #expect(latest == Int64(n))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.first("SELECT count(*) AS n FROM log")?.int("n") == 200)
        }
    }

    @Test func writeStatementsOutsideATransactionReachTheWriter() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            try await db.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            let inserted = try await db.query("INSERT INTO t (v) VALUES (\("a")) RETURNING id")
            #expect(inserted.count == 1)
            // Starts like a read, writes: SQLite's own verdict on the compiled statement decides.
            try await db.query("WITH source(v) AS (SELECT \("b")) INSERT INTO t (v) SELECT v FROM source")
            try await db.query("UPDATE t SET v = upper(v)")
            let values = try await db.query("SELECT v FROM t ORDER BY id").map { try $0.string("v") }
            #expect(values == ["A", "B"])
        }
    }

    @Test func cachedStatementsAnswerForEveryBindAndSurviveEviction() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            try await db.query("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            for k in 0..<20 { try await db.query("INSERT INTO t (k, v) VALUES (\(k), \("value \(k)"))") }
            for k in (0..<20).reversed() {
                #expect(try await db.first("SELECT v FROM t WHERE k = \(k)")?.string("v") == "value \(k)")
            }
            // More distinct statements than the cache holds: the cache is emptied, answers stay right.
            for n in 0..<300 {
                #expect(try await db.first(.trusted("SELECT \(n) AS n, count(*) AS c FROM t"))?.int("n") == Int64(n))
            }
            #expect(try await db.first("SELECT v FROM t WHERE k = \(7)")?.string("v") == "value 7")
        }
    }

    @Test func constraintFailuresNameTheConstraint() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            try await db.query("CREATE TABLE keys (k TEXT NOT NULL UNIQUE, n INTEGER CHECK (n > 0))")
            try await db.query("INSERT INTO keys (k, n) VALUES (\("a"), \(1))")
            await #expect {
                try await db.query("INSERT INTO keys (k, n) VALUES (\("a"), \(2))")
            } throws: { error in
                let error = error as? DatabaseError
                return error?.kind == .uniqueViolation && error?.constraint == "keys.k"
            }
            await #expect {
                try await db.query("INSERT INTO keys (k, n) VALUES (\("b"), \(0))")
            } throws: { error in
                (error as? DatabaseError)?.kind == .constraintViolation
            }
        }
    }

    /// An authenticated invoice page's statements run from the statement cache each time, with
    /// new values bound, without SQLite re-preparing them (a full parse per page otherwise:
    /// without the query planner stability guarantee, `WHERE client_id = ? ... ORDER BY` and a
    /// bound `LIMIT` are re-planned for every new value).
    @Test func theHotStatementsAreNotReprepared() async throws {
        try await withDatabase(.sqlite) { db in
            let engine = try #require(db as? SQLiteEngine)
            let before = engine.repreparedStatements
            for _ in 0..<3 {
                _ = try await SessionRecordRepository(database: db).find(idHash: UUID().uuidString, now: Date())
                _ = try await AccountRepository(database: db).find(id: UUID())
                _ = try await InvoiceRepository(db).list(clientID: UUID(), includeDrafts: false, limit: 50, offset: 0)
                _ = try await InvoiceRepository(db).list(clientID: UUID(), includeDrafts: false, limit: Int.random(in: 10...60), offset: Int.random(in: 0...3) * 25)
            }
            #expect(engine.repreparedStatements == before)
        }
    }

    /// A REAL that does not fit an integer (infinite, NaN, past Int64) is read without trapping.
    @Test func realValuesOutsideInt64DoNotTrap() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            let row = try #require(try await db.first("SELECT 1e999 AS inf, -1e999 AS ninf, 9.5e18 AS big, 2.9 AS small, (1e999 - 1e999) AS nan"))
            #expect(try row.int("inf") == .max)
            #expect(try row.int("ninf") == .min)
            #expect(try row.int("big") == .max)
            #expect(try row.int("small") == 2)
            _ = try? row.int("nan") // NULL in SQLite; either way, no trap
        }
    }
}
