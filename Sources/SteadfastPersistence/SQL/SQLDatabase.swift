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

/// A database: statements run in auto-commit mode, or grouped in a transaction.
///
/// Both engines (``SQLiteEngine``, ``PostgresEngine``) implement the same contract, so every
/// repository and test runs unchanged on either.
public protocol SQLDatabase: SQLExecutor {
    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    /// Statements inside must go through the executor passed to `body`.
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T

    /// Checks that the database answers (for `/readyz`).
    func ping() async throws

    /// Releases connections. The database must not be used afterwards.
    func close() async throws
}
