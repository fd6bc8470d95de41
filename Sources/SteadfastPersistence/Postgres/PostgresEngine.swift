import Foundation
import Logging
import NIOCore
import NIOPosix
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
    /// Each statement's and transaction's time limit (``StatementBound``), served by ``run()``.
    private let timers: TimerQueue
    /// Callers waiting for a connection, and the lessors that serve them (see
    /// ``withConnection(_:_:)``).
    private let desk: LeaseDesk
    /// Asks ``run()`` for one more lessor.
    private let hires: AsyncStream<Void>.Continuation
    private let hireStream: AsyncStream<Void>
    private let retirement = OneShotEvent()
    /// The statements run as named prepared statements on this engine's connections.
    let statementNames: StatementNames

    /// - Parameter statementTimeout: the longest any statement or transaction may wait for the
    ///   server, pool queueing included; left alone PostgresClient queues for up to 60 s.
    /// - Parameter clock: what statement time limits are measured on.
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
        self.statementNames = StatementNames(logger: logger)
        self.statementTimeout = statementTimeout
        self.timers = TimerQueue(clock: clock)
        self.desk = LeaseDesk(maximumLessors: maximumConnections)
        (hireStream, hires) = AsyncStream.makeStream()
    }

    /// Runs the connection pool, serves the callers waiting for a connection and the statements'
    /// time limits, until the task is cancelled, graceful shutdown begins, or ``retire()`` is
    /// called; the engine is retired when it ends.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Ends on graceful shutdown or cancellation; either way the engine is done.
                await self.client.run()
                self.retire()
            }
            group.addTask { await self.timers.run() }
            for await _ in hireStream {
                group.addTask { await self.lessor() }
            }
            group.cancelAll()
        }
        retire()
    }

    /// Stops the engine: waiting for a connection fails at once (and so does every later call),
    /// the pool shuts down, and the connections lent to statements and transactions in flight
    /// are closed, so they fail with a `.connectionFailure` that says whether they may have
    /// committed (an auto-commit statement once sent, a transaction once COMMIT was sent). The
    /// engine closes those connections itself rather than relying on the pool's shutdown: CI
    /// once saw a read stay 2 s on a killed primary after its engine had been retired.
    public func retire() {
        // The desk first: from now on no lessor lends a connection on to a queued caller, so a
        // connection the retirement is closing is never handed to another statement.
        desk.close(failing: Self.retiredError)
        retirement.fire()
        hires.finish()
    }

    /// Whether ``retire()`` was called (or ``run()`` ended).
    var isRetired: Bool { retirement.hasFired }

    static let retiredError = DatabaseError(
        .connectionFailure, message: "the database host was given up on before the work committed", mayHaveCommitted: false
    )

    /// Runs `body` on a pooled connection.
    ///
    /// Why not `client.withConnection` directly: PostgresNIO 1.33.2's pool lease
    /// (`ConnectionPool.leaseConnection()`) checks `Task.isCancelled`, then queues the request,
    /// with a cancellation handler that removes it from the queue. A cancellation landing
    /// between the check and the queueing finds nothing to remove and is lost: the lease then
    /// waits until a connection frees up or the pool fails it — on a host that is down, until
    /// the engine is retired, which the cluster only does once the work has given up: a hang, and
    /// a statement's time limit cannot end it (``StatementBound`` ends a wait by failing its
    /// ``Loan``, and would have nothing to fail). The pool
    /// has no request timeout of its own to fall back on (`PostgresClient.Configuration.Options`
    /// has none in 1.33.2; its circuit breaker trips only after 60 s of failed connects).
    ///
    /// So the caller waits on a ``Loan`` instead, whose wait ends at once when the caller is
    /// cancelled or the engine retires, and leaves it at the engine's ``LeaseDesk``, where a
    /// lessor — a child task of ``run()`` that is never cancelled on the caller's behalf (so
    /// its pool lease cannot lose a cancellation) — leases a connection for it. When the
    /// connection comes and the caller has stopped waiting, the lessor hands it to the next
    /// caller waiting or straight back to the pool, so nothing leaks. Leases therefore never outlive the engine's `run()`, and never
    /// hold a caller past its time limit (which fails `loan`). On a retired engine, or once `run()` has ended, a lease
    /// fails at once without calling into the pool; before `run()` has started it waits for it
    /// (cancellably), as the pool itself would.
    ///
    /// While `body` runs, every statement it sends closes the connection if the task is
    /// cancelled (see ``run(_:on:logger:)``), and ``retire()`` closes it too: `body` ends
    /// promptly either way.
    ///
    /// The connection goes back intact (to be lent on to the next caller waiting) only when
    /// `body` succeeded, the task was not cancelled (a cancelled statement closes its
    /// connection, even one whose answer had come) and `reusable` says so (a statement's time
    /// limit closed it); otherwise it goes back to the pool, which drops it once closed. A
    /// closing connection is never lent on: `isClosed` turns true only once its close is done.
    func withConnection<T>(
        _ loan: Loan<PostgresConnection> = Loan(), reusable: @Sendable () -> Bool = { true }, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        // Fires at once if the engine is already retired.
        let observer = retirement.observe {
            if let lent = loan.fail(Self.retiredError) { Self.close(lent) }
        }
        defer { if let observer { retirement.removeObserver(observer) } }
        let connection = try await loan.borrow {
            switch desk.leave(loan, from: MultiThreadedEventLoopGroup.currentEventLoop) {
            case .taken, .queued(hire: false):
                break
            case .queued(hire: true):
                // Terminated: `run()` has ended, and the desk was closed first (failing the loan).
                if case .terminated = hires.yield() { loan.fail(Self.retiredError) }
            case .closed:
                loan.fail(Self.retiredError)
            }
        }
        var intact = false
        defer { loan.giveBack(intact: intact) }
        let result = try await body(connection)
        intact = !Task.isCancelled && !isRetired && reusable()
        return result
    }

    /// A lessor, a child task of ``run()``: takes loans from the desk until it closes, leases a
    /// connection from the pool for each, and lends it to the loan's caller — then, while it
    /// comes back intact and open and callers are queued at the desk, to each next caller in
    /// turn, before it goes back to the pool. A loan whose caller stopped waiting is skipped
    /// (its connection goes to the next).
    ///
    /// While it holds a connection the lessor runs on the connection's event loop, and lends it
    /// on preferably to a caller on the same loop (``LeaseDesk/takeQueued(for:)``): a node's
    /// request runs on its HTTP connection's loop, so the hand-over, the statement, its answer
    /// and the give-back then all happen on one thread (docs/billing.md).
    private func lessor() async {
        while let loan = await desk.nextLoan() {
            guard !loan.isAbandoned else { continue }
            do {
                try await client.withConnection { connection in
                    await withTaskExecutorPreference(EventLoopExecutor(connection.eventLoop)) {
                        var next: Loan<PostgresConnection>? = loan
                        while let current = next {
                            if current.lend(connection) {
                                guard await current.waitUntilGivenBack(), !connection.isClosed else { return }
                            }
                            next = desk.takeQueued(for: connection.eventLoop)
                        }
                    }
                }
            } catch {
                loan.fail(error)
            }
        }
    }

    /// Closes a connection at once (the pool notices and replaces it). PostgresNIO's `query`
    /// waits for the server whatever happens to its task; closing is what ends it.
    static func close(_ connection: PostgresConnection) {
        let _: EventLoopFuture<Void> = connection.close()
    }

    /// Runs one statement in auto-commit mode. A failure before the statement reached a
    /// connection is reported as certainly not applied; one after it was sent may have been.
    @discardableResult
    public func query(_ sql: SQL) async throws -> [SQLRow] {
        try await query(sql, within: statementTimeout)
    }

    /// ``query(_:)`` with its own time limit (a cluster's request has its own bound).
    @discardableResult
    func query(_ sql: SQL, within limit: Duration) async throws -> [SQLRow] {
        try await bounded(limit) { connection, _ in
            do {
                return try await Self.run(sql, on: connection, names: self.statementNames, logger: self.logger)
            } catch is CancellationError {
                throw CancellationError()  // cancelled before it was sent
            } catch {
                throw Self.translate(error, phase: .commitSent)
            }
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await bounded(options.timeout ?? statementTimeout) { connection, bound in
            try await Self.runTransaction(
                on: connection, names: self.statementNames, logger: self.logger, abandoned: { self.isRetired || bound.hasExpired }, body
            )
        }
    }

    /// Leases a connection and runs `work` on it within `limit`, measured on the engine's clock
    /// by a timer on its ``TimerQueue`` (see ``StatementBound`` for what the timer does). Errors
    /// from `work` come translated with their phase; anything else failed while waiting for a
    /// connection, before anything was sent. Past the limit, a failure it caused is a `.timeout`.
    private func bounded<T>(_ limit: Duration, _ work: (PostgresConnection, StatementBound) async throws -> T) async throws -> T {
        let bound = StatementBound(limit: limit)
        let timer = timers.schedule(after: limit) { bound.expire() }
        defer { timers.cancel(timer) }
        do {
            return try await withConnection(bound.loan, reusable: { !bound.isClosing }) { connection in
                // The limit passed as the connection came: nothing is sent.
                guard bound.start(connection) else { throw bound.timeoutError }
                defer { bound.finish() }
                return try await work(connection, bound)
            }
        } catch {
            throw bound.report(Self.translate(error, phase: .beforeCommit))
        }
    }

    /// BEGIN, body, COMMIT on one connection; errors are translated with the phase they hit.
    ///
    /// COMMIT is sent only if the task is not cancelled and the work not `abandoned` (its
    /// engine retired, or its time limit passed) at that point; otherwise the connection is closed, so the server rolls
    /// the transaction back, and the error says it certainly did not commit
    /// (`CancellationError`, or ``retiredError``). A body that fails is rolled back with
    /// ROLLBACK, or by closing the connection when the task is cancelled (a ROLLBACK would be
    /// one more wait on the server).
    static func runTransaction<T: Sendable>(
        on connection: PostgresConnection,
        names: StatementNames? = nil,
        logger: Logger,
        abandoned: @Sendable () -> Bool = { false },
        _ body: @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        let executor = ConnectionExecutor(connection: connection, names: names, logger: logger)
        do {
            _ = try await run("BEGIN", on: connection, logger: logger)
        } catch {
            throw translate(error, phase: .beforeCommit)
        }
        let result: T
        do {
            result = try await body(executor)
        } catch {
            let translated = (error is PSQLError) ? translate(error, phase: .beforeCommit) : error
            // On a dead connection there is nothing to roll back (the server already did).
            let connectionLost = (translated as? DatabaseError)?.kind == .connectionFailure
            if Task.isCancelled {
                close(connection)
            } else if !connectionLost {
                do { _ = try await run("ROLLBACK", on: connection, logger: logger) } catch {
                    logger.debug("rollback failed", metadata: ["error": "\(String(describing: error))"])
                    close(connection)  // never hand a connection back inside a transaction
                }
            }
            throw translated
        }
        if Task.isCancelled || abandoned() {
            close(connection)
            if Task.isCancelled { throw CancellationError() }
            throw retiredError
        }
        do {
            _ = try await run("COMMIT", on: connection, logger: logger)
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
        var names: StatementNames? = nil
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func query(_ sql: SQL) async throws -> [SQLRow] {
            do {
                return try await PostgresEngine.run(sql, on: connection, names: names, logger: logger)
            } catch {
                throw PostgresEngine.translate(error, phase: .beforeCommit)
            }
        }
    }

    // MARK: Encoding and decoding

    /// The statement as PostgresNIO sends it, and its parameters' types as bound (`.null`, left
    /// to the server, for a `NULL`): with the text, what names a prepared statement.
    static func postgresQuery(_ sql: SQL) -> (query: PostgresQuery, parameterTypes: [PostgresDataType]) {
        let (text, binds) = sql.render(for: .postgres)
        var bindings = PostgresBindings(capacity: binds.count)
        var types: [PostgresDataType] = []
        types.reserveCapacity(binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull(); types.append(.null)
            case .int(let i): bindings.append(i); types.append(.int8)
            case .text(let s): bindings.append(s); types.append(.text)
            case .bool(let b): bindings.append(b); types.append(.bool)
            case .uuid(let u): bindings.append(u); types.append(.uuid)
            case .timestamp(let d): bindings.append(d); types.append(.timestamptz)
            case .bytes(let b): bindings.append(ByteBuffer(bytes: b)); types.append(.bytea)
            }
        }
        return (PostgresQuery(unsafeSQL: text, binds: bindings), types)
    }

    /// Runs one statement on `connection` and returns its rows, with errors the server reports
    /// mid-stream. A statement `names` has a name for runs as that named prepared statement
    /// (``StatementNames``, ``NamedStatement``); any other, unnamed. Unnamed rows are gathered on
    /// the connection's event loop and handed over once; named ones come through PostgresNIO's
    /// row sequence, read on the connection's event loop too, so neither crosses threads for
    /// its rows. Every result here is bounded (lists carry a LIMIT) and read whole anyway.
    ///
    /// Cancellation: a statement is not sent once the task is cancelled (`CancellationError`);
    /// one in flight when it is has its connection closed, which ends the wait for the server
    /// (PostgresNIO ignores task cancellation there) with a connection error.
    ///
    /// A closed connection: the statement fails at once as not sent (``closedError``).
    /// PostgresNIO 1.33.2 writes a query to its channel without a promise for the write, so on a
    /// channel that has finished closing (its handlers already removed) the query is dropped
    /// and its answer never comes: a hang that no time limit ends, since closing the connection
    /// again does nothing. That happens when a connection closes between being lent and its
    /// first statement (the engine's retirement closes lent connections; a killed server closes
    /// them itself). So the statement is handed over on the connection's event loop, where the
    /// channel cannot finish closing between the look at it and the write.
    static func run(_ sql: SQL, on connection: PostgresConnection, names: StatementNames? = nil, logger: Logger) async throws -> [SQLRow] {
        try Task.checkCancellation()
        let (query, parameterTypes) = postgresQuery(sql)
        if let names, let name = names.name(for: query.sql, parameterTypes: parameterTypes),
           let named = try await runNamed(query, name: name, names: names, on: connection, logger: logger) {
            return try rows(named)
        }
        let result: EventLoopFuture<PostgresQueryResult> = connection.eventLoop.flatSubmit {
            guard !connection.isClosed else { return connection.eventLoop.makeFailedFuture(closedError) }
            return connection.query(query, logger: logger)
        }
        let answer = try await withTaskCancellationHandler {
            try await result.get()
        } onCancel: {
            close(connection)
        }
        return try rows(answer.rows)
    }

    /// ``run(_:on:names:logger:)`` for a named statement; `nil` (nothing sent) to run it unnamed.
    ///
    /// The task runs on the connection's event loop from the look at the connection to
    /// PostgresNIO's write, which `execute` does before it first suspends, so the closed-connection
    /// check holds as for an unnamed statement (and should the task not be on the loop, the
    /// statement goes the unnamed way instead).
    ///
    /// After a failure: one PostgresNIO may keep for the name closes the connection
    /// (``StatementNames/mayHaveBeenRemembered(_:)``), the one way to clear it; if the server
    /// answered, the close is waited for, so that the pool has heard of it before the connection
    /// goes back (otherwise the next statement could be lent a closing connection, fail as not
    /// sent, and the cluster would take the host for down). A statement whose result columns
    /// changed gets a fresh name instead (``StatementNames/isChangedResult(_:)``): the
    /// connection is fine, and every connection prepares the new name once.
    private static func runNamed(
        _ query: PostgresQuery, name: String, names: StatementNames, on connection: PostgresConnection, logger: Logger
    ) async throws -> [PostgresRow]? {
        do {
            return try await withTaskCancellationHandler {
                try await withTaskExecutorPreference(EventLoopExecutor(connection.eventLoop)) { () async throws -> [PostgresRow]? in
                    guard connection.eventLoop.inEventLoop else { return nil }
                    guard !connection.isClosed else { throw closedError }
                    let sequence = try await NamedStatement.$current.withValue(.init(name: name, sql: query.sql)) {
                        try await connection.execute(NamedStatement(bindings: query.binds), logger: logger)
                    }
                    do {
                        var rows: [PostgresRow] = []
                        for try await row in sequence { rows.append(row) }
                        return rows
                    } catch is CancellationError {
                        // The row sequence ends with the task; the statement had been sent.
                        throw cancelledAfterSendingError
                    }
                }
            } onCancel: {
                close(connection)
            }
        } catch {
            if StatementNames.isChangedResult(error) {
                names.forget(name)
            } else if StatementNames.mayHaveBeenRemembered(error) {
                if (error as? PSQLError)?.code == .server {
                    try? await connection.close().get()
                } else {
                    close(connection)
                }
            }
            throw error
        }
    }

    /// A named statement's task was cancelled while its rows came: it was sent, so it may have
    /// been applied (as for an unnamed statement, whose connection the cancellation closes).
    static let cancelledAfterSendingError = DatabaseError(
        .connectionFailure, message: "the statement was cancelled after it was sent to PostgreSQL", mayHaveCommitted: true
    )

    /// A statement was not sent: its connection had closed.
    static let closedError = DatabaseError(
        .connectionFailure, message: "the connection to PostgreSQL had closed before the statement was sent", mayHaveCommitted: false
    )

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
            case "0A000" where StatementNames.isChangedResult(psql):
                // A prepared statement's table changed (a rolling upgrade's migration added a
                // column under `SELECT *`): nothing ran, and the statement now has a fresh name
                // (`StatementNames.forget`), so running it again prepares it afresh.
                return DatabaseError(.serializationFailure, message: "a prepared statement's table changed; run it again", code: state, detail: detail)
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
