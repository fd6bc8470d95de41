import Foundation
import Logging
import PostgresNIO
@testable import SteadfastPersistence
import SteadfastConcurrency
import SteadfastTestSupport
import Synchronization
import Testing

/// docs/ha-postgres.md: "work reported as not committed can never send [its commit point]
/// afterwards — a host given up on by a slow probe may well be alive, and the retry must not be
/// a second copy."
///
/// `PostgresEngineRetirementTests` shows that work in flight fails at once with
/// `mayHaveCommitted == false`, and `CommitGateTests` (SteadfastConcurrencyTests) the gate on its own. Here, on a live
/// server: end to end, a transaction whose body is still running when its engine is retired
/// never commits (today the pool's shutdown also closes its connection, so this alone would not
/// notice a missing gate); and the gate itself, on a connection nothing closes (as when a pool's
/// shutdown does not free a connection, which CI saw): a transaction abandoned while its body
/// ran finishes its body, sends no COMMIT, and its INSERT is not there.
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

    @Test func aTransactionAbandonedByRetirementNeverCommitsAfterwards() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "nocommit")
        try await server.psql("CREATE TABLE abandoned (id INTEGER PRIMARY KEY)", database: name)
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
        guard case .failure(let error) = await transaction.result else {
            Issue.record("a transaction on a retired engine succeeded")
            release.open()
            return
        }
        let databaseError = try #require(error as? DatabaseError, "\(error)")
        #expect(databaseError.kind == .connectionFailure, "\(error)")
        #expect(databaseError.mayHaveCommitted == false, "reported as perhaps committed: \(error)")

        // The connection is still there, in the open transaction: only the engine stands between
        // it and a COMMIT.
        // The abandoned body now finishes; its transaction must end without committing.
        release.open()
        let ended = await eventually(timeout: .seconds(30), interval: .milliseconds(50)) {
            (try? await server.psql("SELECT count(*) FROM pg_stat_activity WHERE pid = \(backend) AND state LIKE '%in transaction%'")) == "0"
        }
        #expect(ended, "the abandoned transaction stayed open")
        let rows = try await server.psql("SELECT count(*) FROM abandoned", database: name)
        #expect(rows == "0", "work reported as not committed committed afterwards (\(rows) row)")
    }

    /// The engine's transaction runner on a connection of the test's own, which stays open: the
    /// work is abandoned (its gate closed, as the engine does when it retires) while the body
    /// runs; when the body returns, COMMIT must not be sent.
    @Test func aClosedGateKeepsCOMMITFromBeingSentOnAnOpenConnection() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase(prefix: "gate")
        try await server.psql("CREATE TABLE abandoned (id INTEGER PRIMARY KEY)", database: name)
        let logger = Logger(label: "test")
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: "127.0.0.1", port: server.port, username: "postgres", password: nil, database: name, tls: .disable),
            id: 1, logger: logger
        )
        defer { Task { try? await connection.close() } }

        let (backends, backendContinuation) = AsyncStream.makeStream(of: Int64.self)
        let release = Latch()
        let gate = CommitGate()
        let transaction = Task {
            try await PostgresEngine.runTransaction(on: connection, logger: logger, gate: gate) { tx in
                let pid = try await tx.query("SELECT pg_backend_pid() AS pid").first?.int("pid") ?? 0
                try await tx.query("INSERT INTO abandoned (id) VALUES (1)")
                backendContinuation.yield(pid)
                await release.wait()
            }
        }
        var iterator = backends.makeAsyncIterator()
        let backend = try #require(await iterator.next())
        // Abandoned before the commit point: reported as certainly not committed.
        #expect(gate.close() == false)
        release.open()
        let outcome = await transaction.result
        guard case .failure(let error) = outcome else {
            Issue.record("an abandoned transaction committed")
            let rows = try await server.psql("SELECT count(*) FROM abandoned", database: name)
            Issue.record("rows after the abandoned transaction: \(rows)")
            return
        }
        #expect((error as? DatabaseError)?.kind == .connectionFailure, "\(error)")
        #expect((error as? DatabaseError)?.mayHaveCommitted == false, "\(error)")
        // The connection is open and out of the transaction (rolled back), and nothing committed.
        #expect(try await server.psql("SELECT state FROM pg_stat_activity WHERE pid = \(backend)") == "idle")
        #expect(try await server.psql("SELECT count(*) FROM abandoned", database: name) == "0")
    }
}
