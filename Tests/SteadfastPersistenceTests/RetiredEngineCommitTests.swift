import Foundation
import Logging
import PostgresNIO
@testable import SteadfastPersistence
import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// docs/ha-postgres.md: "work reported as not committed never sends [its commit point]
/// afterwards — a host given up on by a slow probe may well be alive, and the retry must not be
/// a second copy."
///
/// `PostgresEngineRetirementTests` shows that work in flight fails at once when its engine is
/// retired. Here, on a live server: a transaction whose body is still running (and ignoring
/// cancellation) when its engine is retired is waited for — the caller hears only once the body
/// has ended — and then never commits; and the engine's transaction runner, on a connection of
/// the test's own, sends no COMMIT once its task is cancelled or its work abandoned.
@Suite(.timeLimit(.minutes(2))) struct RetiredEngineCommitTests {
    /// Opens once; waiting ignores task cancellation (as a slow body would).
    final class Latch: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func open() {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }

        func wait() async {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    /// A new database on the shared server with an empty table `abandoned`: a row there is work
    /// that committed.
    static func databaseWithAnEmptyTable() async throws -> (server: PostgresServer, name: String) {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "nocommit")
        try await server.psql("CREATE TABLE abandoned (id INTEGER PRIMARY KEY)", database: name)
        return (server, name)
    }

    /// A connection of the test's own (no engine, no pool).
    static func connect(to server: PostgresServer, database name: String, logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(host: "127.0.0.1", port: server.port, username: "postgres", password: nil, database: name, tls: .disable),
            id: 1, logger: logger
        )
    }

    @Test func aTransactionAbandonedByRetirementNeverCommitsAfterwards() async throws {
        let (server, name) = try await Self.databaseWithAnEmptyTable()
        guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not a postgres URL") }
        let engine = PostgresEngine(endpoint: target.endpoints[0], maximumConnections: 2, statementTimeout: .seconds(30), logger: Logger(label: "test"))
        let pool = Task { try await engine.run() }
        defer { pool.cancel() }

        let (backends, backendContinuation) = AsyncStream.makeStream(of: Int64.self)
        let release = Latch()
        let transaction = Task {
            try await engine.transaction { tx in
                let pid = try await tx.query("SELECT pg_backend_pid() AS pid").first?.int("pid") ?? 0
                try await tx.query("INSERT INTO abandoned (id) VALUES (1)")
                backendContinuation.yield(pid)
                await release.wait()  // still running when the engine is retired
            }
        }
        var iterator = backends.makeAsyncIterator()
        let backend = try #require(await iterator.next())
        #expect(try await server.psql("SELECT state FROM pg_stat_activity WHERE pid = \(backend)") == "idle in transaction")

        engine.retire()
        // The engine closes the connection at once (the server rolls the transaction back), but
        // the caller hears only once the body, which ignores cancellation, has ended.
        let stillOpen = await server.waitUntilBackendEnds(backend)
        #expect(stillOpen == nil, "the retired engine left the connection open: \(stillOpen ?? "")")
        let finished = LockedBox(false)
        let watcher = Task {
            _ = await transaction.result
            finished.with { $0 = true }
        }
        for _ in 0..<100 { await Task.yield() }
        #expect(!finished.value, "the transaction was reported over while its body still ran")
        release.open()
        await watcher.value
        guard case .failure(let error) = await transaction.result else {
            Issue.record("a transaction on a retired engine succeeded")
            return
        }
        let databaseError = try #require(error as? DatabaseError, "\(error)")
        #expect(databaseError.kind == .connectionFailure, "\(error)")
        #expect(databaseError.mayHaveCommitted == false, "reported as perhaps committed: \(error)")
        let rows = try await server.psql("SELECT count(*) FROM abandoned", database: name)
        #expect(rows == "0", "work reported as not committed committed afterwards (\(rows) row)")
    }

    /// A transaction still running (and not yet at COMMIT) when its time limit passes on the
    /// engine's clock: the engine closes its connection at once (the server rolls it back), the
    /// caller hears only once the body has ended, COMMIT is never sent, and the caller gets a
    /// timeout that says the work certainly did not commit. The limit runs on a `ManualClock`,
    /// moved to just short of it (nothing happens) and then to it.
    @Test func aTransactionPastItsTimeLimitNeverCommitsAfterwards() async throws {
        let (server, name) = try await Self.databaseWithAnEmptyTable()
        guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not a postgres URL") }
        let clock = ManualClock()
        let engine = PostgresEngine(
            endpoint: target.endpoints[0], maximumConnections: 2, statementTimeout: .seconds(30), clock: clock.steady, logger: Logger(label: "test")
        )
        let (backends, backendContinuation) = AsyncStream.makeStream(of: Int64.self)
        let release = Latch()
        let outcome = LockedBox<Result<Void, any Error>?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            group.addTask {
                do {
                    try await engine.transaction { tx in
                        let pid = try await tx.query("SELECT pg_backend_pid() AS pid").first?.int("pid") ?? 0
                        try await tx.query("INSERT INTO abandoned (id) VALUES (1)")
                        backendContinuation.yield(pid)
                        await release.wait()  // still running when the limit passes
                    }
                    outcome.with { $0 = .success(()) }
                } catch {
                    outcome.with { $0 = .failure(error) }
                }
            }
            var iterator = backends.makeAsyncIterator()
            let backend = try #require(await iterator.next())
            try await waitUntil("the transaction's limit asleep on the clock") { clock.isSleeping(for: .seconds(30)) }
            clock.advance(by: .milliseconds(29_999))
            for _ in 0..<100 { await Task.yield() }
            #expect(try await server.psql("SELECT state FROM pg_stat_activity WHERE pid = \(backend)") == "idle in transaction")
            clock.advance(by: .milliseconds(1))
            let stillOpen = await server.waitUntilBackendEnds(backend)
            #expect(stillOpen == nil, "the connection stayed open past the limit: \(stillOpen ?? "")")
            for _ in 0..<100 { await Task.yield() }
            #expect(outcome.value == nil, "the transaction was reported over while its body still ran")
            release.open()
            try await waitUntil("the transaction to end") { outcome.value != nil }
            engine.retire()
            try await group.waitForAll()
        }
        guard case .failure(let error)? = outcome.value else {
            Issue.record("a transaction past its time limit succeeded")
            return
        }
        let databaseError = try #require(error as? DatabaseError, "\(error)")
        #expect(databaseError.kind == .timeout, "\(error)")
        #expect(databaseError.message == "no answer from the database within 30s")
        #expect(databaseError.mayHaveCommitted == false, "reported as perhaps committed: \(error)")
        let rows = try await server.psql("SELECT count(*) FROM abandoned", database: name)
        #expect(rows == "0", "work reported as not committed committed afterwards (\(rows) row)")
    }

    /// The engine's transaction runner on a connection of the test's own: the task is
    /// cancelled, or the work abandoned (as a retirement or a passed time limit does), while the
    /// body runs and ignores it; when the body returns, COMMIT must not be sent, and the error
    /// says the work certainly did not commit.
    @Test(arguments: [true, false]) func noCOMMITIsSentOnceCancelledOrAbandoned(cancel: Bool) async throws {
        let (server, name) = try await Self.databaseWithAnEmptyTable()
        let logger = Logger(label: "test")
        let connection = try await Self.connect(to: server, database: name, logger: logger)
        let (backends, backendContinuation) = AsyncStream.makeStream(of: Int64.self)
        let release = Latch()
        let abandoned = LockedBox(false)
        let transaction = Task {
            try await PostgresEngine.runTransaction(on: connection, logger: logger, abandoned: { abandoned.value }) { tx in
                let pid = try await tx.query("SELECT pg_backend_pid() AS pid").first?.int("pid") ?? 0
                try await tx.query("INSERT INTO abandoned (id) VALUES (1)")
                backendContinuation.yield(pid)
                await release.wait()
            }
        }
        var iterator = backends.makeAsyncIterator()
        let backend = try #require(await iterator.next())
        if cancel { transaction.cancel() } else { abandoned.with { $0 = true } }
        release.open()
        let outcome = await transaction.result
        try? await connection.close()
        guard case .failure(let error) = outcome else {
            Issue.record("an abandoned transaction committed")
            return
        }
        if cancel {
            #expect(error is CancellationError, "\(error)")
        } else {
            #expect((error as? DatabaseError)?.kind == .connectionFailure, "\(error)")
            #expect((error as? DatabaseError)?.mayHaveCommitted == false, "\(error)")
        }
        // The transaction ended without COMMIT (its connection was closed), and nothing committed.
        let stillOpen = await server.waitUntilBackendEnds(backend)
        #expect(stillOpen == nil, "the abandoned transaction stayed open: \(stillOpen ?? "")")
        #expect(try await server.psql("SELECT count(*) FROM abandoned", database: name) == "0")
    }

    /// The connection closes after the body's statements and before COMMIT (a retirement, or a
    /// killed server, between the two): COMMIT is never written, so it fails at once as
    /// certainly not committed — PostgresNIO would drop it, and its answer would never come —
    /// and nothing is committed.
    @Test func aCOMMITOnAConnectionThatHasClosedFailsAtOnceAsNotCommitted() async throws {
        let (server, name) = try await Self.databaseWithAnEmptyTable()
        let logger = Logger(label: "test")
        let connection = try await Self.connect(to: server, database: name, logger: logger)
        let error: any Error
        do {
            try await PostgresEngine.runTransaction(on: connection, logger: logger) { tx in
                try await tx.query("INSERT INTO abandoned (id) VALUES (1)")
                PostgresEngine.close(connection)
                // Completes once the channel has dropped its handlers: a write now would be lost.
                try? await connection.closeFuture.get()
            }
            Issue.record("a transaction whose connection had closed committed")
            return
        } catch let caught {
            error = caught
        }
        let databaseError = try #require(error as? DatabaseError, "\(error)")
        #expect(databaseError.kind == .connectionFailure, "\(error)")
        #expect(databaseError.mayHaveCommitted == false, "reported as perhaps committed: \(error)")
        #expect(try await server.psql("SELECT count(*) FROM abandoned", database: name) == "0")
    }
}
