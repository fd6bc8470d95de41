/// Something that runs statements: a database, or one open transaction on it.
public protocol SQLExecutor: Sendable {
    /// The engine's dialect, for the few statements that differ between engines.
    var dialect: SQLDialect { get }

    /// Runs one statement and returns every row it produced (all rows are read, so an error that
    /// a server reports only while streaming rows still surfaces here).
    @discardableResult
    func query(_ sql: SQL) async throws -> [SQLRow]
}

extension SQLExecutor {
    /// Runs a statement and returns its first row, if any.
    public func first(_ sql: SQL) async throws -> SQLRow? {
        try await query(sql).first
    }
}

/// How a transaction may be run.
public struct TransactionOptions: Sendable {
    /// The work is idempotent by its own unique key (a payment key, a renewal's service+period):
    /// running it twice changes nothing the second time, so it may be retried on another server
    /// even when a failure left it unknown whether the first attempt committed.
    public var idempotent: Bool
    /// A longer bound than the database's request timeout, for maintenance work (migrations).
    public var timeout: Duration?

    public init(idempotent: Bool = false, timeout: Duration? = nil) {
        self.idempotent = idempotent
        self.timeout = timeout
    }

    public static let `default` = TransactionOptions()
}

/// A database: statements run in auto-commit mode, or grouped in a transaction.
///
/// Both engines (``SQLiteEngine``, ``PostgresEngine``) and the multi-host ``PostgresCluster``
/// implement the same contract, so every repository and test runs unchanged on any of them.
public protocol SQLDatabase: SQLExecutor {
    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    /// Statements inside must go through the executor passed to `body`.
    @discardableResult
    func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T

    /// Runs a read-only statement that may be answered by a standby within the lag bound when
    /// the routing allows it (on a single server: the same as ``SQLExecutor/query(_:)``).
    func read(_ sql: SQL) async throws -> [SQLRow]

    /// Whether writes can be accepted right now (false while a cluster has no primary), so
    /// optional writes (session expiry refreshes) can be skipped instead of failing a request.
    var canWrite: Bool { get }

    /// The role and lag of every server behind this database (empty for SQLite).
    func hostStatuses() async -> [HostStatus]

    /// Checks that the database answers (for `/readyz`).
    func ping() async throws

    /// Releases connections. The database must not be used afterwards.
    func close() async throws
}

extension SQLDatabase {
    /// Runs `body` in a transaction with the default options.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await transaction(.default, body)
    }

    public func read(_ sql: SQL) async throws -> [SQLRow] { try await query(sql) }
    public var canWrite: Bool { true }
    public func hostStatuses() async -> [HostStatus] { [] }

    /// ``read(_:)`` returning the first row.
    public func readFirst(_ sql: SQL) async throws -> SQLRow? { try await read(sql).first }
}
