import PostgresNIO
import Synchronization

/// Which statements an engine runs as named prepared statements, and under which name.
///
/// PostgreSQL parses, analyses and plans an unnamed statement each time it runs it. Under the
/// billing benchmark's invoice list that was about 60% of the server's CPU, and the server, on
/// the same two cores as the node, was what held the page rate down (docs/billing.md). A named
/// statement is parsed and analysed once per connection, and after five runs PostgreSQL keeps a
/// generic plan when it costs no more than the custom ones. PostgresNIO prepares a named statement
/// on a connection the first time it runs there, and remembers it for the connection's life
/// (``NamedStatement``).
///
/// A name stands for one statement text *and* its parameters' types: a parameter's type is
/// fixed when the statement is prepared, and one bound as `NULL` is left for the server to
/// infer (an `int4` column gives `int4`, which a later `int8` value would not fit).
///
/// Bounded: at most `capacity` names, given to the first distinct statements seen; later ones run
/// unnamed, since each prepared statement holds server memory on every connection. Only data
/// statements (`SELECT`, `INSERT`, `UPDATE`, `DELETE`, `WITH`) are named: transaction control and
/// schema changes are not worth keeping. A name is never given to another statement, so a
/// connection never holds a stale statement under a name in use.
final class StatementNames: Sendable {
    struct Key: Hashable {
        var text: String
        var parameterTypes: [PostgresDataType]
    }

    let capacity: Int
    private let names = Mutex<[Key: String]>([:])

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// The name for `text` with parameters of `parameterTypes`, or `nil` to run it unnamed.
    func name(for text: String, parameterTypes: [PostgresDataType]) -> String? {
        guard Self.isDataStatement(text) else { return nil }
        let key = Key(text: text, parameterTypes: parameterTypes)
        return names.withLock { names in
            if let name = names[key] { return name }
            guard names.count < capacity else { return nil }
            let name = "steadfast_\(names.count + 1)"
            names[key] = name
            return name
        }
    }

    /// How many names are given (for tests).
    var count: Int { names.withLock { $0.count } }

    /// Whether `text` starts (after white space) with a data statement's keyword.
    static func isDataStatement(_ text: String) -> Bool {
        let start = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        let keyword = start.prefix { $0.isLetter }.uppercased()
        return ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(keyword)
    }

    /// Whether a named statement that failed with `error` may have left PostgresNIO remembering
    /// the failure for its name on that connection, so that every later run of the statement
    /// there would fail the same way without reaching the server.
    ///
    /// PostgresNIO 1.33.2 keeps a failed preparation as that name's state for the connection's
    /// life (`PreparedStatementStateMachine`'s `.error`). A preparation can fail for a passing
    /// reason: inside a transaction that an earlier statement aborted (25P02), a query cancelled,
    /// a lock wait ended. The engine closes such a connection (the pool replaces it), which is
    /// the one way to clear that state. Errors only an execution can raise leave it alone: a
    /// constraint refused a row (class 23), a value was out of range or malformed (class 22:
    /// fixed text never is), or a serialization failure (40001).
    static func mayHaveBeenRemembered(_ error: any Error) -> Bool {
        let psql = error as? PSQLError
        return mayHaveBeenRemembered(sqlState: psql?.code == .server ? psql?.serverInfo?[.sqlState] : nil)
    }

    /// ``mayHaveBeenRemembered(_:)`` for a server error's SQLSTATE; `nil` for any other failure
    /// (the connection failed, or the task was cancelled: the connection is closed anyway).
    static func mayHaveBeenRemembered(sqlState state: String?) -> Bool {
        guard let state else { return true }
        return !(state.hasPrefix("23") || state.hasPrefix("22") || state == "40001")
    }
}

/// A statement for PostgresNIO's `PostgresConnection.execute(_:logger:)`, which prepares a named
/// statement on a connection once and then only binds and executes it there.
///
/// PostgresNIO reads a prepared statement's name and text from static members, made for
/// statements fixed at compile time; ours are built at run time (``SQL``). So the static members
/// read a task-local value that ``PostgresEngine`` binds around each call (PostgresNIO reads them
/// in the calling task, before it sends anything and when it reports an error).
struct NamedStatement: PostgresPreparedStatement {
    struct Identity: Sendable {
        var name: String
        var sql: String
    }

    @TaskLocal static var current = Identity(name: "", sql: "")

    static var name: String { current.name }
    static var sql: String { current.sql }

    typealias Row = PostgresRow

    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
