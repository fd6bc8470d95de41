import Foundation
import Logging
import NIOCore
import PostgresNIO
// Only to recognise the pool's errors (pool shut down, request cancelled), which PostgresNIO
// passes through unwrapped.
import _ConnectionPoolModule
import ServiceLifecycle
import SteadfastConcurrency
import SteadfastDomain
import Synchronization

/// The cluster database: PostgreSQL through PostgresNIO's `PostgresClient` connection pool.
///
/// The client is a long-running service: ``run()`` must be running (in the node's service group)
/// for statements to be served. Transactions are written here rather than with
/// `PostgresClient.withTransaction`, so a failure can say whether COMMIT had been sent — the
/// fact that decides whether retrying is safe.
public final class PostgresEngine: SQLDatabase, Service {
    public var dialect: SQLDialect { .postgres }

    /// The endpoint this engine talks to (for logs and status pages; no password).
    public let endpoint: PostgresEndpoint
    let client: PostgresClient
    private let logger: Logger
    private let statementTimeout: Duration
    private let clock: any Clock<Duration>

    /// - Parameter statementTimeout: the longest any statement or transaction may wait for the
    ///   server, pool queueing included; left alone PostgresClient queues for up to 60 s.
    /// - Parameter clock: what the statement deadlines are measured on.
    public init(
        endpoint: PostgresEndpoint, maximumConnections: Int = 20, statementTimeout: Duration = .seconds(5),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.endpoint = endpoint
        var configuration = PostgresClient.Configuration(
            host: endpoint.host,
            port: endpoint.port,
            username: endpoint.username,
            password: endpoint.password,
            database: endpoint.database,
            tls: endpoint.requireTLS ? .require(.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(2)
        configuration.options.connectionIdleTimeout = .seconds(60)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.statementTimeout = statementTimeout
        self.clock = clock
    }

    /// Runs the connection pool until the task is cancelled, graceful shutdown begins, or
    /// ``retire()`` is called.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.retirement.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Stops the pool: its connections close, queries waiting on it fail, and every statement
    /// or transaction in flight is abandoned at once with a `.connectionFailure` (whether it may
    /// have committed is known: an auto-commit statement once sent, a transaction once COMMIT
    /// was sent; a ``CommitGate`` makes sure work reported as not committed never sends its
    /// commit point later). The pool's own shutdown does not always free them: CI saw a read
    /// stay 2 s on a killed primary after the host was marked unreachable and its engine retired.
    public func retire() {
        retirement.fire()
    }

    private let retirement = OneShotEvent()

    /// Runs one statement in auto-commit mode. A failure before the statement reached a
    /// connection is reported as certainly not applied; one after it was sent may have been.
    @discardableResult
    public func query(_ sql: SQL) async throws -> [SQLRow] {
        let gate = CommitGate()
        do {
            return try await onConnection(within: statementTimeout, gate: gate) { connection in
                guard gate.pass() else { throw CommitGate.abandoned }
                let rows = try await connection.query(Self.postgresQuery(sql), logger: self.logger)
                return try await Self.collect(rows)
            }
        } catch {
            throw Self.translate(error, phase: gate.passed ? .commitSent : .beforeCommit)
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let gate = CommitGate()
        do {
            return try await onConnection(within: options.timeout ?? statementTimeout, gate: gate) { connection in
                try await Self.runTransaction(on: connection, logger: self.logger, gate: gate, body)
            }
        } catch {
            // Errors from inside were translated with their phase; anything else failed
            // while waiting for a connection, before anything was sent.
            throw Self.translate(error, phase: .beforeCommit)
        }
    }

    /// Runs `work` on a pooled connection within `limit`, pool queueing included.
    ///
    /// When the limit passes or the engine is retired first, ``withDeadline(_:on:abandonWhen:_:)``
    /// cancels the work (which ends a wait for a connection) and runs its abort actions: the
    /// gate closes, so work that had not reached its commit point never will, and the leased
    /// connection is closed, which ends a statement that PostgresNIO would otherwise wait on for
    /// as long as a hung server takes (its `query` ignores task cancellation). Closing is local
    /// and immediate; the pool replaces the connection.
    private func onConnection<T: Sendable>(
        within limit: Duration, gate: CommitGate, _ work: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await withDeadline(limit, on: clock, abandonWhen: retirement) { signal in
                try await signal.whileRunning(onAbort: { _ = gate.close() }) {
                    try await self.client.withConnection { connection in
                        try await signal.whileRunning(onAbort: { let _: EventLoopFuture<Void> = connection.close() }) {
                            try await work(connection)
                        }
                    }
                }
            }
        } catch let expired as DeadlineExceeded {
            switch expired.expiry {
            case .timeLimit:
                throw DatabaseError(.timeout, message: "no answer from the database within \(DurationText.format(limit))", mayHaveCommitted: gate.passed)
            case .abandoned, .cancelled:
                throw DatabaseError(.connectionFailure, message: "the database host was given up on while the statement ran", mayHaveCommitted: gate.passed)
            }
        }
    }

    /// BEGIN, body, COMMIT on one connection; errors are translated with the phase they hit.
    static func runTransaction<T: Sendable>(
        on connection: PostgresConnection,
        logger: Logger,
        gate: CommitGate? = nil,
        _ body: @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        let executor = ConnectionExecutor(connection: connection, logger: logger)
        do {
            try await connection.query("BEGIN", logger: logger)
        } catch {
            throw translate(error, phase: .beforeCommit)
        }
        let result: T
        do {
            result = try await body(executor)
        } catch {
            let translated = (error is PSQLError) ? translate(error, phase: .beforeCommit) : error
            // On a dead connection there is nothing to roll back (the server already did), and
            // a ROLLBACK sent there can wait for a long time: skip it.
            let connectionLost = (translated as? DatabaseError)?.kind == .connectionFailure
            if !connectionLost {
                do { try await connection.query("ROLLBACK", logger: logger) } catch {
                    logger.debug("rollback failed", metadata: ["error": "\(String(describing: error))"])
                }
            }
            throw translated
        }
        if let gate, !gate.pass() {
            // Abandoned (reported as not committed, perhaps already retried elsewhere): never
            // commit now. The pool is shutting down; a ROLLBACK is only a courtesy.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw CommitGate.abandoned
        }
        do {
            try await connection.query("COMMIT", logger: logger)
        } catch {
            throw translate(error, phase: .commitSent)
        }
        return result
    }

    public func ping() async throws {
        try await query("SELECT 1 AS ok")
    }

    public func close() async throws {}

    /// The executor a transaction body receives: one pooled connection inside BEGIN/COMMIT.
    struct ConnectionExecutor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func query(_ sql: SQL) async throws -> [SQLRow] {
            do {
                let rows = try await connection.query(PostgresEngine.postgresQuery(sql), logger: logger)
                return try await PostgresEngine.collect(rows)
            } catch {
                throw PostgresEngine.translate(error, phase: .beforeCommit)
            }
        }
    }

    // MARK: Encoding and decoding

    static func postgresQuery(_ sql: SQL) -> PostgresQuery {
        let (text, binds) = sql.render(for: .postgres)
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let i): bindings.append(i)
            case .text(let s): bindings.append(s)
            case .bool(let b): bindings.append(b)
            case .uuid(let u): bindings.append(u)
            case .timestamp(let d): bindings.append(d)
            case .bytes(let b): bindings.append(ByteBuffer(bytes: b))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    /// Reads every row: errors a server reports mid-stream only surface while iterating.
    static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var result: [SQLRow] = []
        for try await row in rows {
            var names: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                names.append(cell.columnName)
                values.append(try decode(cell))
            }
            result.append(SQLRow(columns: names, values: values))
        }
        return result
    }

    private static func decode(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .uuid: return .uuid(try cell.decode(UUID.self))
        case .int2, .int4, .int8, .oid: return .int(try cell.decode(Int64.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        case .timestamptz, .timestamp: return .timestamp(try cell.decode(Date.self))
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .bytes(buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .float4, .float8: return .int(Int64(try cell.decode(Double.self)))
        default: return .text(try cell.decode(String.self))
        }
    }

    // MARK: Errors

    /// Where a transaction was when it failed; decides whether a retry could apply it twice.
    enum Phase { case beforeCommit, commitSent }

    static func translate(_ error: any Error, phase: Phase) -> any Error {
        if let error = error as? DatabaseError { return error }
        let mayHaveCommitted = phase == .commitSent
        if let poolError = error as? ConnectionPoolError {
            return DatabaseError(.connectionFailure, message: "connection pool unavailable (\(poolError))", mayHaveCommitted: mayHaveCommitted)
        }
        guard let psql = error as? PSQLError else { return error }
        if psql.code == .server, let state = psql.serverInfo?[.sqlState] {
            let detail = psql.serverInfo?[.message]
            let constraint = psql.serverInfo?[.constraintName]
            switch state {
            case "23505":
                return DatabaseError(.uniqueViolation, message: "unique constraint violated", constraint: constraint, code: state, detail: detail)
            case _ where state.hasPrefix("23"):
                return DatabaseError(.constraintViolation, message: "constraint violated", constraint: constraint, code: state, detail: detail)
            case "25006":
                return DatabaseError(.readOnly, message: "server is read-only (standby or demoted primary)", code: state, detail: detail)
            case "40001", "40P01":
                return DatabaseError(.serializationFailure, message: "serialization failure", code: state, detail: detail)
            case "57014":
                return DatabaseError(.timeout, message: "statement cancelled", code: state, detail: detail)
            case "57P01", "57P02", "57P03":
                return DatabaseError(.connectionFailure, message: "server is shutting down", code: state, detail: detail, mayHaveCommitted: mayHaveCommitted)
            case _ where state.hasPrefix("08"):
                return DatabaseError(.connectionFailure, message: "connection exception", code: state, detail: detail, mayHaveCommitted: mayHaveCommitted)
            default:
                return DatabaseError(.other, message: "PostgreSQL error", code: state, detail: detail)
            }
        }
        switch psql.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed,
             .sslUnsupported, .failedToAddSSLHandler:
            return DatabaseError(.connectionFailure, message: "connection to PostgreSQL failed (\(psql.code))", detail: String(reflecting: psql), mayHaveCommitted: mayHaveCommitted)
        case .queryCancelled:
            return DatabaseError(.timeout, message: "query cancelled", detail: String(reflecting: psql), mayHaveCommitted: mayHaveCommitted)
        default:
            return DatabaseError(.other, message: "PostgreSQL client error (\(psql.code))", detail: String(reflecting: psql))
        }
    }
}

extension CommitGate {
    /// The error for work that reached a closed gate.
    static let abandoned = DatabaseError(.connectionFailure, message: "the database host was given up on before the work committed", mayHaveCommitted: false)
}
