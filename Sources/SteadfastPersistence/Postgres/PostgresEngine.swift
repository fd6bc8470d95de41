import Foundation
import Logging
import NIOCore
import PostgresNIO
// Only to recognise the pool's errors (pool shut down, request cancelled), which PostgresNIO
// passes through unwrapped.
import _ConnectionPoolModule
import ServiceLifecycle
import SteadfastConcurrency
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

    /// - Parameter statementTimeout: the longest any statement or transaction may wait for the
    ///   server, pool queueing included; left alone PostgresClient queues for up to 60 s.
    public init(endpoint: PostgresEndpoint, maximumConnections: Int = 20, statementTimeout: Duration = .seconds(5), logger: Logger) {
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
        try await query(sql, within: statementTimeout)
    }

    /// ``query(_:)`` with its own time limit (a cluster's request has its own bound).
    func query(_ sql: SQL, within limit: Duration) async throws -> [SQLRow] {
        let gate = CommitGate()
        return try await withDatabaseDeadline(limit, abandonWhen: retirement, mayHaveCommitted: { gate.close() }) {
            do {
                return try await self.client.withConnection { connection in
                    guard gate.pass() else { throw CommitGate.abandoned }
                    return try await Self.run(sql, on: connection, logger: self.logger)
                }
            } catch {
                throw Self.translate(error, phase: gate.passed ? .commitSent : .beforeCommit)
            }
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let gate = CommitGate()
        return try await withDatabaseDeadline(options.timeout ?? statementTimeout, abandonWhen: retirement, mayHaveCommitted: { gate.close() }) {
            do {
                return try await self.client.withConnection { connection in
                    try await Self.runTransaction(on: connection, logger: self.logger, gate: gate, body)
                }
            } catch {
                // Errors from inside were translated with their phase; anything else failed
                // while waiting for a connection, before anything was sent.
                throw Self.translate(error, phase: .beforeCommit)
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
                return try await PostgresEngine.run(sql, on: connection, logger: logger)
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

    /// Runs one statement on `connection` and returns its rows, with errors the server reports
    /// mid-stream. The rows are gathered on the connection's event loop and handed over once:
    /// iterating PostgresNIO's async row sequence instead crossed between the event loop and
    /// the task's thread for each batch of rows and again at the end, for no gain — every
    /// result here is bounded (lists carry a LIMIT) and read whole anyway.
    static func run(_ sql: SQL, on connection: PostgresConnection, logger: Logger) async throws -> [SQLRow] {
        let result: EventLoopFuture<PostgresQueryResult> = connection.query(postgresQuery(sql), logger: logger)
        return try rows(try await result.get().rows)
    }

    /// Decodes rows; the column names are read once per result and shared by its rows.
    static func rows(_ rows: [PostgresRow]) throws -> [SQLRow] {
        guard let first = rows.first else { return [] }
        let names = first.map(\.columnName)
        var result: [SQLRow] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            var values: [SQLValue] = []
            values.reserveCapacity(names.count)
            for cell in row { values.append(try decode(cell)) }
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
