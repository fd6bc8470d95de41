import Foundation
import Synchronization
// SQLiteNIO vendors SQLite as this C module. We call its C API directly because SQLiteNIO's
// `query` hops to a thread pool for every statement and back to an event loop for every row, and
// prepares every statement afresh: three thread wake-ups per query, which was most of the cost
// of an authenticated page. Here a statement runs on the calling thread from a cached prepared
// statement; only work that may wait on the disk (commits) is sent to a thread pool by the engine.
import VaporCSQLite
import CSteadfastSQLite

/// One SQLite connection and its cache of prepared statements.
///
/// Not thread-safe by itself: ``SQLiteEngine`` gives each handle to one caller at a time (the
/// writer under its lock, readers checked out of ``SQLiteReaderPool``).
///
/// `@unchecked Sendable`: the handle moves between threads (a thread-pool thread for a commit, any
/// cooperative thread for a read) but is only ever used by the one task that holds it — the engine's
/// `AsyncLock` or the reader pool's check-out guarantee that — and SQLite is compiled with
/// `SQLITE_THREADSAFE=1`, so a connection may be used from a different thread each time.
final class SQLiteConnectionHandle: @unchecked Sendable {
    /// Counts statements SQLite had to compile again before running them (shared by an engine's
    /// connections; a hot statement that keeps being re-prepared costs a full parse each time).
    let reprepares: SQLiteCounter
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The cache is emptied when it would grow past this many statements (the portal uses fewer).
    private static let maximumCachedStatements = 256

    /// Opens `path` (`nil`: a private in-memory database), creating the file if missing.
    /// (Readers are opened read-write too and made `query_only`: a `SQLITE_OPEN_READONLY` connection
    /// cannot take part in WAL locking normally.)
    init(path: String?, reprepares: SQLiteCounter) throws(DatabaseError) {
        self.reprepares = reprepares
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | (path == nil ? SQLITE_OPEN_MEMORY : 0)
        let status = sqlite_nio_sqlite3_open_v2(path ?? ":memory:", &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0).map { String(cString: $0) } } ?? "status \(status)"
            sqlite_nio_sqlite3_close(handle)
            throw DatabaseError(.configuration, message: "cannot open SQLite database at \(path ?? ":memory:")", detail: message)
        }
        db = handle
        // Plans must not depend on bound values: otherwise SQLite re-prepares a statement each
        // time new values are bound when they could change its plan — for example any
        // `WHERE client_id = ? ... ORDER BY` list, which is every paginated page.
        let qpsg = steadfast_sqlite_enable_qpsg(UnsafeMutableRawPointer(handle))
        guard qpsg == SQLITE_OK else {
            sqlite_nio_sqlite3_close(handle)
            db = nil
            throw DatabaseError(.configuration, message: "cannot configure SQLite connection", detail: "sqlite3_db_config(ENABLE_QPSG) returned \(qpsg)")
        }
    }

    deinit { close() }

    /// Finalizes every cached statement and closes the connection (idempotent).
    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        if let db { sqlite_nio_sqlite3_close_v2(db) }
        db = nil
    }

    /// Runs `text` if it only reads, else returns `nil` without running it. "Only reads" is
    /// SQLite's own judgement of the compiled statement (`sqlite3_stmt_readonly`), limited to
    /// `SELECT`/`WITH` so that transaction control and pragmas (which SQLite also calls
    /// read-only) stay on the writer.
    func runIfReadOnly(_ text: String, _ binds: [SQLValue]) throws(DatabaseError) -> [SQLRow]? {
        guard Self.startsWithSelect(text) else { return nil }
        let statement = try prepared(text)
        guard sqlite_nio_sqlite3_stmt_readonly(statement) != 0 else { return nil }
        return try run(statement, binds)
    }

    /// Runs one statement with its bound values and returns every row.
    func run(_ text: String, _ binds: [SQLValue]) throws(DatabaseError) -> [SQLRow] {
        try run(try prepared(text), binds)
    }

    private func run(_ statement: OpaquePointer, _ binds: [SQLValue]) throws(DatabaseError) -> [SQLRow] {
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (offset, value) in binds.enumerated() {
            try check(bind(value, at: Int32(offset + 1), in: statement))
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        var columns: [String] = []
        columns.reserveCapacity(Int(count))
        for index in 0..<count {
            columns.append(sqlite_nio_sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "")
        }
        var rows: [SQLRow] = []
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE {
                if sqlite_nio_sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 1) > 0 { reprepares.increment() }
                return rows
            }
            guard status == SQLITE_ROW else { throw error(status) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for index in 0..<count { values.append(value(at: index, in: statement)) }
            rows.append(SQLRow(columns: columns, values: values))
        }
    }

    private func prepared(_ text: String) throws(DatabaseError) -> OpaquePointer {
        if let cached = statements[text] { return cached }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(db, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(status) }
        if statements.count >= Self.maximumCachedStatements {
            for cached in statements.values { sqlite_nio_sqlite3_finalize(cached) }
            statements.removeAll(keepingCapacity: true)
        }
        statements[text] = statement
        return statement
    }

    private func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer) -> Int32 {
        switch value {
        case .null: return sqlite_nio_sqlite3_bind_null(statement, index)
        case .int(let i): return sqlite_nio_sqlite3_bind_int64(statement, index, i)
        case .bool(let b): return sqlite_nio_sqlite3_bind_int64(statement, index, b ? 1 : 0)
        case .timestamp(let d): return sqlite_nio_sqlite3_bind_int64(statement, index, d.microsecondsSince1970)
        case .uuid(let u): return bindText(u.uuidString.lowercased(), at: index, in: statement)
        case .text(let s): return bindText(s, at: index, in: statement)
        case .bytes(let b):
            return b.withUnsafeBytes { sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), Self.transient) }
        }
    }

    private func bindText(_ text: String, at index: Int32, in statement: OpaquePointer) -> Int32 {
        sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
    }

    private func value(at index: Int32, in statement: OpaquePointer) -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .int(sqlite_nio_sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            // Steadfast stores no REAL values; a NaN, infinite or out-of-range one must not trap.
            let double = sqlite_nio_sqlite3_column_double(statement, index)
            return .int(double.isNaN ? 0 : Int64(exactly: double.rounded(.towardZero)) ?? (double < 0 ? .min : .max))
        case SQLITE_TEXT:
            guard let bytes = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, index) else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func check(_ status: Int32) throws(DatabaseError) {
        guard status == SQLITE_OK else { throw error(status) }
    }

    /// The connection's last error as a ``DatabaseError`` with the same categories as PostgreSQL's.
    private func error(_ status: Int32) -> DatabaseError {
        let message = sqlite_nio_sqlite3_errmsg(db).map { String(cString: $0) } ?? "SQLite status \(status)"
        return Self.translate(extendedCode: sqlite_nio_sqlite3_extended_errcode(db), message: message)
    }

    static func translate(extendedCode: Int32, message: String) -> DatabaseError {
        let primary = extendedCode & 0xFF
        switch primary {
        case SQLITE_CONSTRAINT:
            if extendedCode == constraintUnique || extendedCode == constraintPrimaryKey || message.contains("UNIQUE constraint failed") {
                return DatabaseError(.uniqueViolation, message: "unique constraint violated", constraint: constraintName(message), code: "SQLITE_CONSTRAINT", detail: message)
            }
            return DatabaseError(.constraintViolation, message: "constraint violated", code: "SQLITE_CONSTRAINT", detail: message)
        case SQLITE_BUSY, SQLITE_LOCKED:
            return DatabaseError(.timeout, message: "database is busy", code: "SQLITE_BUSY", detail: message)
        case SQLITE_READONLY:
            return DatabaseError(.readOnly, message: "database is read-only", code: "SQLITE_READONLY", detail: message)
        default:
            return DatabaseError(.other, message: "SQLite error", code: "SQLITE_\(extendedCode)", detail: message)
        }
    }

    /// "UNIQUE constraint failed: accounts.email_normalized" → "accounts.email_normalized".
    private static func constraintName(_ message: String) -> String? {
        guard let range = message.range(of: "constraint failed: ") else { return nil }
        return String(message[range.upperBound...])
    }

    // Extended result codes (C macros Swift does not import): SQLITE_CONSTRAINT | (8 << 8), | (6 << 8).
    private static let constraintUnique: Int32 = 2067
    private static let constraintPrimaryKey: Int32 = 1555

    private static func startsWithSelect(_ text: String) -> Bool {
        let head = text.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D || $0 == 0x28 }.prefix(6)
        let word = String(decoding: head, as: UTF8.self).uppercased()
        return word.hasPrefix("SELECT") || word.hasPrefix("WITH")
    }

    /// `SQLITE_TRANSIENT`: SQLite copies bound text and blobs before the bind call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// A thread-safe counter (see ``SQLiteConnectionHandle/reprepares``).
final class SQLiteCounter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
