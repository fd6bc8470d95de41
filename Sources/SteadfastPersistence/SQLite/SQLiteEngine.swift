import Foundation
import Logging
import NIOCore
import SQLiteNIO
import Synchronization

/// The zero-setup database: one SQLite file (WAL mode) for a single node.
///
/// One connection serves the node; an ``AsyncLock`` gives it to one statement or transaction at
/// a time, which is also what makes SQLite's single-writer rule safe. SQLite is not shared
/// between nodes: a cluster uses ``PostgresEngine``.
public final class SQLiteEngine: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }

    private let connection: SQLiteConnection
    private let lock = AsyncLock()
    private let logger: Logger

    /// The engine currently holding the lock in this task, so a statement issued through the
    /// database (not the transaction executor) inside a transaction does not deadlock.
    @TaskLocal private static var holder: ObjectIdentifier?

    private init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path`; `nil` opens a private in-memory database.
    public static func open(path: String?, logger: Logger) async throws -> SQLiteEngine {
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
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: path.map { .file(path: $0) } ?? .memory, logger: logger)
        } catch {
            throw DatabaseError(.configuration, message: "cannot open SQLite database at \(path ?? ":memory:")", detail: "\(error)")
        }
        let engine = SQLiteEngine(connection: connection, logger: logger)
        if path != nil {
            try await engine.query("PRAGMA journal_mode=WAL")
            try await engine.query("PRAGMA synchronous=FULL")
        }
        try await engine.query("PRAGMA foreign_keys=ON")
        try await engine.query("PRAGMA busy_timeout=5000")
        return engine
    }

    @discardableResult
    public func query(_ sql: SQL) async throws -> [SQLRow] {
        if Self.holder == ObjectIdentifier(self) {
            return try await run(sql)
        }
        return try await lock.withLock { try await run(sql) }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        if Self.holder == ObjectIdentifier(self) {
            // Already inside a transaction of this engine: join it (SQLite has no nesting).
            return try await body(Executor(engine: self))
        }
        return try await lock.withLock {
            try await Self.$holder.withValue(ObjectIdentifier(self)) {
                try await run("BEGIN IMMEDIATE")
                do {
                    let result = try await body(Executor(engine: self))
                    try await run("COMMIT")
                    return result
                } catch {
                    do { try await run("ROLLBACK") } catch { logger.warning("rollback failed", metadata: ["error": "\(error)"]) }
                    throw error
                }
            }
        }
    }

    public func ping() async throws {
        try await query("SELECT 1 AS ok")
    }

    public func close() async throws {
        try await lock.withLock { try await connection.close() }
    }

    /// The executor handed to a transaction body: runs directly on the (already locked) connection.
    private struct Executor: SQLExecutor {
        let engine: SQLiteEngine
        var dialect: SQLDialect { .sqlite }
        func query(_ sql: SQL) async throws -> [SQLRow] { try await engine.run(sql) }
    }

    @discardableResult
    private func run(_ sql: SQL) async throws -> [SQLRow] {
        let (text, binds) = sql.render(for: .sqlite)
        let data = binds.map(Self.encode)
        let collected = RowCollector()
        do {
            try await connection.query(text, data) { row in collected.append(row) }
        } catch let error as SQLiteError {
            throw Self.translate(error)
        }
        return collected.rows.map(Self.decode)
    }

    private static func encode(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .int(let i): .integer(Int(i))
        case .text(let s): .text(s)
        case .bool(let b): .integer(b ? 1 : 0)
        case .uuid(let u): .text(u.uuidString.lowercased())
        case .timestamp(let d): .integer(Int(d.microsecondsSince1970))
        case .bytes(let b): .blob(ByteBuffer(bytes: b))
        }
    }

    private static func decode(_ row: SQLiteRow) -> SQLRow {
        let columns = row.columns
        return SQLRow(
            columns: columns.map(\.name),
            values: columns.map { column in
                switch column.data {
                case .null: .null
                case .integer(let i): .int(Int64(i))
                case .float(let d): .int(Int64(d))
                case .text(let s): .text(s)
                case .blob(var buffer): .bytes(buffer.readBytes(length: buffer.readableBytes) ?? [])
                }
            }
        )
    }

    static func translate(_ error: SQLiteError) -> DatabaseError {
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            return DatabaseError(.uniqueViolation, message: "unique constraint violated", constraint: constraintName(error.message), code: "SQLITE_CONSTRAINT", detail: error.message)
        case .constraint where error.message.contains("UNIQUE constraint failed"):
            return DatabaseError(.uniqueViolation, message: "unique constraint violated", constraint: constraintName(error.message), code: "SQLITE_CONSTRAINT", detail: error.message)
        case .constraint, .constraintCheckFailed, .constraintForeignKeyFailed, .constraintNotNullFailed:
            return DatabaseError(.constraintViolation, message: "constraint violated", code: "SQLITE_CONSTRAINT", detail: error.message)
        case .busy, .busyTimeout, .locked:
            return DatabaseError(.timeout, message: "database is busy", code: "SQLITE_BUSY", detail: error.message)
        case .readOnly, .readonlyDirectory, .readonlyCantLock:
            return DatabaseError(.readOnly, message: "database is read-only", code: "SQLITE_READONLY", detail: error.message)
        default:
            return DatabaseError(.other, message: "SQLite error", code: "\(error.reason)", detail: error.message)
        }
    }

    /// "UNIQUE constraint failed: accounts.email_normalized" → "accounts.email_normalized".
    private static func constraintName(_ message: String) -> String? {
        guard let range = message.range(of: "constraint failed: ") else { return nil }
        return String(message[range.upperBound...])
    }
}

/// Gathers rows delivered on SQLite's thread-pool callback.
private final class RowCollector: Sendable {
    private let storage = Mutex<[SQLiteRow]>([])
    func append(_ row: SQLiteRow) { storage.withLock { $0.append(row) } }
    var rows: [SQLiteRow] { storage.withLock { $0 } }
}
