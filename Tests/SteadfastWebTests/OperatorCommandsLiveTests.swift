import Foundation
import Logging
import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// Operator commands run by hand, often in the wrong directory or against the wrong server:
/// they must say what is missing and what to do, exit non-zero, and leave nothing behind (once
/// `steadfast jobs list` in a fresh directory answered `database error (other): SQLite error
/// [SQLITE_1]` and left an empty database file there).
///
/// Runs the built `steadfast` binary as a child process in a fresh temporary directory.
@Suite(.timeLimit(.minutes(3))) struct OperatorCommandsLiveTests {
    /// Every operator command that opens the database.
    static let commands: [[String]] = [
        ["db", "status"],
        ["jobs", "list"],
        ["jobs", "history"],
        ["jobs", "run", "session-cleanup", "--no-wait"],
        ["storage", "check"],
        ["storage", "migrate", "--type", "downloads", "--to", "local"],
        ["storage", "migrate", "--type", "downloads", "--to", "local", "--background"],
    ]

    struct Outcome {
        let status: Int32
        let output: String
        /// What the working directory holds afterwards.
        let left: [String]
        let took: Duration
    }

    /// Runs `steadfast ARGUMENTS` in a new empty directory; its output goes elsewhere.
    static func run(_ arguments: [String], prepare: (URL) throws -> Void = { _ in }) async throws -> Outcome {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cli-cwd")
        let logs = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cli-logs")
        defer {
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: logs)
        }
        try prepare(directory)
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        let clock = ContinuousClock()
        let started = clock.now
        let process = try ManagedProcess(
            name: "cli", executable: TestPaths.steadfastBinary, arguments: arguments,
            // Only what the arguments say: no database or configuration from the test's environment.
            environment: ["STEADFAST_DATABASE_URL": nil, "STEADFAST_CONFIG": nil, "STEADFAST_NODE_DATA_DIR": nil],
            workingDirectory: directory, logDirectory: logs
        )
        let status = try await process.waitForExit(timeout: .seconds(60))
        let took = clock.now - started
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        return Outcome(status: status, output: process.stdout + process.stderr, left: after.subtracting(before).sorted(), took: took)
    }

    @Test(arguments: commands)
    func inAFreshDirectoryACommandSaysThereIsNoDatabaseAndCreatesNone(_ arguments: [String]) async throws {
        let outcome = try await Self.run(arguments)
        #expect(outcome.status != 0, "\(outcome.output)")
        #expect(outcome.output.contains("there is no database at ./steadfast-data/steadfast.sqlite, so no Steadfast schema"), "\(outcome.output)")
        #expect(outcome.output.contains("start a node first (steadfast serve)") && outcome.output.contains("--database"), "\(outcome.output)")
        #expect(!outcome.output.contains("SQLITE_"), "\(outcome.output)")
        #expect(outcome.left.isEmpty, "left behind: \(outcome.left)")
    }

    @Test(arguments: [["jobs", "list"], ["db", "status"], ["storage", "check"]])
    func anEmptySQLiteFileHasNoSteadfastSchema(_ arguments: [String]) async throws {
        let outcome = try await Self.run(arguments + ["--database", "sqlite://empty.sqlite"]) { directory in
            FileManager.default.createFile(atPath: directory.appendingPathComponent("empty.sqlite").path, contents: Data())
        }
        #expect(outcome.status != 0, "\(outcome.output)")
        #expect(outcome.output.contains("the database at empty.sqlite has no Steadfast schema: start a node first (steadfast serve)"), "\(outcome.output)")
        #expect(!outcome.output.contains("SQLITE_"), "\(outcome.output)")
        #expect(outcome.left.isEmpty, "left behind: \(outcome.left)")  // no -wal or -shm files
    }

    /// A SQLite database with tables, but not a node's: named as such, and left as it was.
    @Test func aSQLiteDatabaseOfSomethingElseHasNoSteadfastSchema() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cli-db")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("other.sqlite").path
        let database = try await SQLiteEngine.open(path: path, logger: Logger(label: "test"))
        try await database.query("CREATE TABLE notes (body TEXT)")
        try await database.close()
        let outcome = try await Self.run(["jobs", "history", "--database", "sqlite://\(path)"])
        #expect(outcome.status != 0, "\(outcome.output)")
        #expect(outcome.output.contains("the database at \(path) has no Steadfast schema"), "\(outcome.output)")
        let reopened = try await SQLiteEngine.open(path: path, logger: Logger(label: "test"))
        let tables = try await reopened.read("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").first?.int("n")
        try await reopened.close()
        #expect(tables == 1)
    }

    @Test func aFileThatIsNotSQLiteIsNamed() async throws {
        let outcome = try await Self.run(["jobs", "list", "--database", "sqlite://notes.txt"]) { directory in
            try Data("not a database\n".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        }
        #expect(outcome.status != 0, "\(outcome.output)")
        #expect(outcome.output.contains("notes.txt is not a SQLite database"), "\(outcome.output)")
    }

    /// Nothing listens on the port: every command names the server and why, at once (not after
    /// waiting out a pool's timeout with a bare "timeout").
    @Test(arguments: [["db", "status"], ["jobs", "list"], ["jobs", "run", "session-cleanup"], ["storage", "check"]])
    func anUnreachablePostgreSQLServerIsNamed(_ arguments: [String]) async throws {
        let port = try FreePort.next()
        let outcome = try await Self.run(arguments + ["--database", "postgres://steadfast:secret-pw@127.0.0.1:\(port)/steadfast"])
        #expect(outcome.status != 0, "\(outcome.output)")
        #expect(outcome.output.contains("127.0.0.1:\(port)"), "\(outcome.output)")
        #expect(outcome.output.lowercased().contains("connection refused"), "\(outcome.output)")
        #expect(outcome.output.contains("no PostgreSQL server of") || outcome.output.contains("no primary of"), "\(outcome.output)")
        #expect(!outcome.output.contains("secret-pw"), "the password is never printed: \(outcome.output)")
        #expect(outcome.took < .seconds(20))
        #expect(outcome.left.isEmpty, "left behind: \(outcome.left)")
    }

    /// A reachable server, but an empty database: no Steadfast schema, and none is created.
    @Test(arguments: [["db", "status"], ["jobs", "list"], ["storage", "check"]])
    func aPostgreSQLDatabaseWithoutTheSchemaIsNamed(_ arguments: [String]) async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "cli")
        let outcome = try await Self.run(arguments + ["--database", server.url(database: name)])
        #expect(outcome.status != 0, "\(outcome.output)")
        #expect(outcome.output.contains("127.0.0.1:\(server.port)/\(name) has no Steadfast schema: start a node first (steadfast serve)"), "\(outcome.output)")
        let tables = try await server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: name)
        #expect(tables == "0")
    }

    /// The checks refuse nothing a node set up: with the schema in place the commands answer.
    @Test func withTheSchemaInPlaceTheCommandsAnswer() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cli-db")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("node.sqlite").path
        let database = try await SQLiteEngine.open(path: path, logger: Logger(label: "test"))
        try await Migrator(nodeID: "test").migrate(database, logger: Logger(label: "test"))
        try await database.close()
        let jobs = try await Self.run(["jobs", "list", "--database", "sqlite://\(path)"])
        #expect(jobs.status == 0 && jobs.output.contains("No jobs yet"), "\(jobs.output)")
        let status = try await Self.run(["db", "status", "--database", "sqlite://\(path)"])
        #expect(status.status == 0 && status.output.contains("answers (single node); schema version"), "\(status.output)")

        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "cli")
        try await withPostgres(url: server.url(database: name)) { engine in
            try await Migrator(nodeID: "test").migrate(engine, logger: Logger(label: "test"))
        }
        let onPostgres = try await Self.run(["jobs", "list", "--database", server.url(database: name)])
        #expect(onPostgres.status == 0 && onPostgres.output.contains("No jobs yet"), "\(onPostgres.output)")
        let pgStatus = try await Self.run(["db", "status", "--database", server.url(database: name)])
        #expect(pgStatus.status == 0 && pgStatus.output.contains("primary"), "\(pgStatus.output)")
    }
}
