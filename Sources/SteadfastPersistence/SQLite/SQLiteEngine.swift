import Foundation
import Logging
import NIOCore
import NIOPosix
import SteadfastConcurrency
import Synchronization

/// The zero-setup database: one SQLite file (WAL mode) for a single node.
///
/// One writer connection serves every write; an ``AsyncLock`` gives it to one statement or
/// transaction at a time, which is also what makes SQLite's single-writer rule safe. Read-only
/// statements outside a transaction go to a small pool of reader connections instead, which WAL
/// lets run alongside the writer and each other. Statements run on the calling thread from cached
/// prepared statements; what may wait on the disk or on another process (`BEGIN IMMEDIATE`,
/// `COMMIT`, a write outside a transaction) runs on NIO's thread pool so it never blocks a
/// Swift concurrency thread. SQLite is not shared between nodes: a cluster uses ``PostgresEngine``.
public final class SQLiteEngine: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }

    private let writer: SQLiteConnectionHandle
    /// `nil` for an in-memory database (another connection would open another, empty database).
    private let readers: SQLiteReaderPool?
    private let lock = AsyncLock()
    private let logger: Logger

    /// The engine currently holding the lock in this task, so a statement issued through the
    /// database (not the transaction executor) inside a transaction does not deadlock.
    @TaskLocal private static var holder: ObjectIdentifier?

    private init(writer: SQLiteConnectionHandle, readers: SQLiteReaderPool?, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path`; `nil` opens a private in-memory database.
    /// `readers` bounds the read-only connections (default: one per CPU core, at least two).
    public static func open(path: String?, readers: Int? = nil, logger: Logger) async throws -> SQLiteEngine {
        if let path {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw DatabaseError(.configuration, message: "cannot create directory \(directory) for the SQLite database: \(error.localizedDescription)")
                }
            }
        }
        let reprepares = SQLiteCounter()
        let writer = try await NIOThreadPool.singleton.runIfActive { () throws(DatabaseError) -> SQLiteConnectionHandle in
            let writer = try SQLiteConnectionHandle(path: path, reprepares: reprepares)
            do throws(DatabaseError) {
                if path != nil {
                    _ = try writer.run("PRAGMA journal_mode=WAL", [])
                    _ = try writer.run("PRAGMA synchronous=FULL", [])
                }
                _ = try writer.run("PRAGMA foreign_keys=ON", [])
                _ = try writer.run("PRAGMA busy_timeout=5000", [])
            } catch {
                throw DatabaseError(.configuration, message: "cannot open SQLite database at \(path ?? ":memory:")", detail: "\(error)")
            }
            return writer
        }
        let pool = path.map { SQLiteReaderPool(path: $0, capacity: readers ?? max(2, System.coreCount), reprepares: reprepares) }
        return SQLiteEngine(writer: writer, readers: pool, logger: logger)
    }

    @discardableResult
    public func query(_ sql: SQL) async throws -> [SQLRow] {
        let (text, binds) = sql.render(for: .sqlite)
        if Self.holder == ObjectIdentifier(self) {
            // Inside this task's transaction: the writer is ours, and nothing waits on the disk before COMMIT.
            return try writer.run(text, binds)
        }
        if let readers {
            let rows = try await readers.withConnection { reader throws(DatabaseError) -> [SQLRow]? in
                try reader.runIfReadOnly(text, binds)
            }
            if let rows { return rows }
        }
        return try await lock.withLock {
            if readers == nil { return try writer.run(text, binds) } // in memory: no disk to wait on
            return try await onThreadPool { writer in try writer.run(text, binds) }
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        if Self.holder == ObjectIdentifier(self) {
            // Already inside a transaction of this engine: join it (SQLite has no nesting).
            return try await body(Executor(engine: self))
        }
        return try await lock.withLock {
            try await Self.$holder.withValue(ObjectIdentifier(self)) {
                try await onThreadPool { writer in _ = try writer.run("BEGIN IMMEDIATE", []) }
                do {
                    let result = try await body(Executor(engine: self))
                    try await onThreadPool { writer in _ = try writer.run("COMMIT", []) }
                    return result
                } catch {
                    do { _ = try writer.run("ROLLBACK", []) } catch { logger.warning("rollback failed", metadata: ["error": "\(error)"]) }
                    throw error
                }
            }
        }
    }

    /// How many statement runs SQLite had to re-prepare first (for tests: hot statements must not).
    public var repreparedStatements: Int { writer.reprepares.count }

    public func ping() async throws {
        try await query("SELECT 1 AS ok")
    }

    public func close() async throws {
        readers?.close()
        await lock.withLock { writer.close() }
    }

    /// The executor handed to a transaction body: runs directly on the (already locked) writer.
    private struct Executor: SQLExecutor {
        let engine: SQLiteEngine
        var dialect: SQLDialect { .sqlite }
        func query(_ sql: SQL) async throws -> [SQLRow] {
            let (text, binds) = sql.render(for: .sqlite)
            return try engine.writer.run(text, binds)
        }
    }

    /// Runs `body` with the writer on NIO's thread pool (the caller holds the lock, or is opening).
    private func onThreadPool<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnectionHandle) throws -> T) async throws -> T {
        let writer = self.writer
        return try await NIOThreadPool.singleton.runIfActive { try body(writer) }
    }
}
