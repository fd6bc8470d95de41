import Foundation
@testable import SteadfastPersistence
import Testing
import SteadfastTestSupport

@Suite struct SQLRenderingTests {
    @Test func valuesBecomeNumberedPlaceholdersPerDialect() {
        let id = UUID()
        let email = "x'); DROP TABLE accounts; --"
        let sql: SQL = "SELECT * FROM accounts WHERE id = \(id) AND email = \(email) AND role = \(raw: "'client'")"
        let postgres = sql.render(for: .postgres)
        #expect(postgres.text == "SELECT * FROM accounts WHERE id = $1 AND email = $2 AND role = 'client'")
        #expect(postgres.binds == [.uuid(id), .text(email)])
        #expect(sql.render(for: .sqlite).text == "SELECT * FROM accounts WHERE id = ?1 AND email = ?2 AND role = 'client'")
    }

    @Test func splicedStatementsKeepTheirBindsInOrder() {
        let inner: SQL = "a = \(1) AND b = \(2)"
        let outer: SQL = "SELECT 1 WHERE \(inner) AND c = \(3)"
        let rendered = outer.render(for: .postgres)
        #expect(rendered.text == "SELECT 1 WHERE a = $1 AND b = $2 AND c = $3")
        #expect(rendered.binds == [.int(1), .int(2), .int(3)])
        let joined = SQL.joined([inner, "c = \(3)"], separator: " OR ")
        #expect(joined.render(for: .sqlite).text == "a = ?1 AND b = ?2 OR c = ?3")
    }

    @Test func descriptionNeverContainsBoundValues() {
        let secret = "hunter2-password"
        let sql: SQL = "UPDATE accounts SET password_hash = \(secret)"
        #expect(!sql.description.contains(secret))
    }

    @Test func databaseURLs() throws {
        #expect(try DatabaseURL("sqlite://./data/x.sqlite") == .sqlite(path: "./data/x.sqlite"))
        #expect(try DatabaseURL("sqlite:///var/lib/s.db") == .sqlite(path: "/var/lib/s.db"))
        #expect(try DatabaseURL("sqlite::memory:") == .sqlite(path: nil))
        let pg = try DatabaseURL("postgres://app:s%40cret@db.example.com:5433/steadfast?sslmode=require")
        #expect(pg == .postgres(PostgresTarget(endpoints: [
            PostgresEndpoint(host: "db.example.com", port: 5433, username: "app", password: "s@cret", database: "steadfast", requireTLS: true),
        ])))
        #expect(!pg.description.contains("cret"))
        for bad in ["mysql://x/y", "postgres://host", "postgres://host:5432/", "postgres://h/db?sslmode=bogus", "sqlite:", "postgres://h/db?foo=1",
                    "postgres://u@h1,h1/db", "postgres://u@h1:99999/db", "postgres://u@h1,,h2/db", "postgres://u@h/db?target_session_attrs=primary"] {
            #expect(throws: DatabaseError.self) { try DatabaseURL(bad) }
        }
        let multi = try DatabaseURL("postgres://u:topsecret@h1:5432,h2:5433,[::1]:5434,h4/steadfast?target_session_attrs=prefer-standby")
        guard case .postgres(let target) = multi else { Issue.record("not postgres"); return }
        #expect(target.endpoints.map { "\($0.host):\($0.port)" } == ["h1:5432", "h2:5433", "::1:5434", "h4:5432"])
        #expect(target.endpoints.allSatisfy { $0.username == "u" && $0.password == "topsecret" && $0.database == "steadfast" })
        #expect(target.sessionAttributes == .preferStandby)
        #expect(!multi.description.contains("topsecret"))
        do {
            _ = try DatabaseURL("mysql://u:topsecret@h/db")
        } catch {
            #expect(!error.description.contains("topsecret"))
        }
    }
}

@Suite struct EngineTests {
    @Test(arguments: EngineKind.allCases)
    func everyValueTypeRoundTrips(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            let d = db.dialect
            try await db.query(.trusted("""
                CREATE TABLE kinds (id \(d.uuidType) PRIMARY KEY, t TEXT, n \(d.bigintType), b \(d.boolType), ts \(d.timestampType), bytes \(d.bytesType), absent TEXT)
                """))
            let id = UUID()
            let instant = Date(timeIntervalSince1970: 1_790_000_000.123456)
            let bytes: [UInt8] = [0, 1, 2, 254, 255]
            try await db.query("""
                INSERT INTO kinds (id, t, n, b, ts, bytes, absent)
                VALUES (\(id), \("héllo 'quoted' 🚀"), \(Int64.max), \(true), \(instant), \(SQLValue.bytes(bytes)), \(SQLValue.null))
                """)
            let row = try #require(try await db.first("SELECT * FROM kinds WHERE id = \(id)"))
            #expect(try row.uuid("id") == id)
            #expect(try row.string("t") == "héllo 'quoted' 🚀")
            #expect(try row.int("n") == Int64.max)
            #expect(try row.bool("b") == true)
            #expect(abs(try row.date("ts").timeIntervalSince(instant)) < 0.000_002)
            #expect(try row.bytes("bytes") == bytes)
            #expect(try row.isNull("absent"))
            #expect(try row.optionalString("absent") == nil)
            #expect(throws: DatabaseError.self) { try row.value("missing") }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func transactionsCommitOrRollBack(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            try await db.query("CREATE TABLE items (name TEXT PRIMARY KEY)")
            try await db.transaction { tx in
                try await tx.query("INSERT INTO items (name) VALUES (\("kept"))")
            }
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await db.transaction { tx in
                    try await tx.query("INSERT INTO items (name) VALUES (\("discarded"))")
                    throw Boom()
                }
            }
            let names = try await db.query("SELECT name FROM items ORDER BY name").map { try $0.string("name") }
            #expect(names == ["kept"])
        }
    }

    @Test(arguments: EngineKind.allCases)
    func uniqueViolationsAreRecognisedOnBothEngines(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            try await db.query("CREATE TABLE keys (k TEXT NOT NULL, CONSTRAINT keys_k_unique UNIQUE (k))")
            try await db.query("INSERT INTO keys (k) VALUES (\("a"))")
            await #expect {
                try await db.query("INSERT INTO keys (k) VALUES (\("a"))")
            } throws: { error in
                (error as? DatabaseError)?.kind == .uniqueViolation
            }
            // The failed statement inside a transaction rolls the whole transaction back.
            await #expect(throws: DatabaseError.self) {
                try await db.transaction { tx in
                    try await tx.query("INSERT INTO keys (k) VALUES (\("b"))")
                    try await tx.query("INSERT INTO keys (k) VALUES (\("a"))")
                }
            }
            #expect(try await db.query("SELECT k FROM keys").count == 1)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aFailingStatementThrowsInsteadOfReturningRows(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            try await db.query("CREATE TABLE n (v INTEGER NOT NULL)")
            await #expect(throws: DatabaseError.self) {
                try await db.query("INSERT INTO n (v) VALUES (\(SQLValue.null))")
            }
            await #expect(throws: (any Error).self) {
                try await db.query("SELECT * FROM no_such_table")
            }
        }
    }

    @Test func sqliteStatementsThroughTheDatabaseInsideATransactionDoNotDeadlock() async throws {
        try await withDatabase(.sqlite, migrate: false) { db in
            try await db.query("CREATE TABLE t (v INTEGER)")
            try await db.transaction { tx in
                try await tx.query("INSERT INTO t (v) VALUES (1)")
                try await db.query("INSERT INTO t (v) VALUES (2)")
            }
            #expect(try await db.query("SELECT v FROM t").count == 2)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func concurrentTransactionsAreIsolated(_ kind: EngineKind) async throws {
        try await withDatabase(kind, migrate: false) { db in
            try await db.query("CREATE TABLE counter (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            try await db.query("INSERT INTO counter (id, v) VALUES (1, 0)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        _ = try await db.transaction { tx in
                            try await tx.query("UPDATE counter SET v = v + 1 WHERE id = 1")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.first("SELECT v FROM counter WHERE id = 1")?.int("v") == 40)
        }
    }
}

@Suite struct UUIDColumnTests {
    @Test func canonicalTextParsesLikeFoundation() throws {
        for _ in 0..<200 {
            let id = UUID()
            for text in [id.uuidString, id.uuidString.lowercased()] {
                #expect(try SQLRow(columns: ["id"], values: [.text(text)]).uuid("id") == id)
            }
        }
        let mixed = "0a1B2c3D-4e5F-6789-aBcD-EF0123456789"
        #expect(try SQLRow(columns: ["id"], values: [.text(mixed)]).uuid("id") == UUID(uuidString: mixed))
    }

    @Test func anythingElseIsADecodingError() {
        let good = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        let bad = [
            "", "not a uuid", String(good.dropLast()), good + "0",
            "0a1b2c3d_4e5f-6789-abcd-ef0123456789", "0a1b2c3d-4e5f-6789-abcd-ef012345678g",
            "0a1b2c3d4-e5f-6789-abcd-ef0123456789", "{0a1b2c3d-4e5f-6789-abcd-ef01234567}",
            "0a1b2c3d-4e5f-6789-abcd-ef01234567é",
        ]
        for text in bad {
            #expect(throws: DatabaseError.self, "\(text)") { try SQLRow(columns: ["id"], values: [.text(text)]).uuid("id") }
        }
    }
}
