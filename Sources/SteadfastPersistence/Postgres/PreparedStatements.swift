import Logging
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
/// Bounded: at most `capacity` names are ever given, to the first distinct statements seen; later
/// ones run unnamed (logged once), since each prepared statement holds server memory on every
/// connection. Only data statements (`SELECT`, `INSERT`, `UPDATE`, `DELETE`, `WITH`) are named:
/// transaction control and schema changes are not worth keeping. A name is never given to
/// another statement, so a connection never holds a stale statement under a name in use.
final class StatementNames: Sendable {
    struct Key: Hashable {
        var text: String
        var parameterTypes: [PostgresDataType]
    }

    private struct State {
        var names: [Key: String] = [:]
        /// Names given so far, forgotten ones included (they stay prepared on connections).
        var given = 0
        var reportedFull = false
    }

    let capacity: Int
    private let logger: Logger?
    private let state = Mutex(State())

    init(capacity: Int = 256, logger: Logger? = nil) {
        self.capacity = capacity
        self.logger = logger
    }

    /// The name for `text` with parameters of `parameterTypes`, or `nil` to run it unnamed.
    /// On every statement: one dictionary lookup; the keyword is read only for a statement not
    /// named yet (only data statements ever are).
    func name(for text: String, parameterTypes: [PostgresDataType]) -> String? {
        let key = Key(text: text, parameterTypes: parameterTypes)
        if let name = state.withLock({ $0.names[key] }) { return name }
        guard Self.isDataStatement(text) else { return nil }
        let (name, full) = state.withLock { state -> (String?, Bool) in
            if let name = state.names[key] { return (name, false) }
            guard state.given < capacity else {
                defer { state.reportedFull = true }
                return (nil, !state.reportedFull)
            }
            state.given += 1
            let name = "steadfast_\(state.given)"
            state.names[key] = name
            return (name, false)
        }
        if full {
            logger?.notice("all prepared statement names are in use; further statements run unprepared", metadata: ["steadfast.db.statement_names": "\(capacity)"])
        }
        return name
    }

    /// Gives the statement named `name` a fresh name at its next run (or none, past the
    /// capacity): for a statement whose table changed, which PostgresNIO keeps as prepared on
    /// every connection that prepared it, so the old name would fail once on each of them.
    func forget(_ name: String) {
        state.withLock { state in
            if let key = state.names.first(where: { $0.value == name })?.key { state.names[key] = nil }
        }
    }

    /// How many names are given (for tests).
    var count: Int { state.withLock { $0.given } }

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
    /// a lock wait ended, a standby's conflict with recovery (40001). The engine closes such a
    /// connection (the pool replaces it), which is the one way to clear that state. Errors only
    /// an execution can raise leave it alone: a constraint refused a row (class 23), or a value
    /// was out of range or malformed (class 22: fixed text never is).
    static func mayHaveBeenRemembered(_ error: any Error) -> Bool {
        mayHaveBeenRemembered(sqlState: serverState(of: error))
    }

    /// ``mayHaveBeenRemembered(_:)`` for a server error's SQLSTATE; `nil` for any other failure
    /// (the connection failed, or the task was cancelled: the connection is closed anyway).
    static func mayHaveBeenRemembered(sqlState state: String?) -> Bool {
        guard let state else { return true }
        return !(state.hasPrefix("23") || state.hasPrefix("22"))
    }

    /// Whether `error` is PostgreSQL's refusal to run a prepared statement whose result columns
    /// changed since it was prepared ("cached plan must not change result type": a migration
    /// added a column under `SELECT *`). It comes when the statement is bound, before anything
    /// runs, and leaves the statement prepared on the connection; told by its SQLSTATE and the
    /// server routine that raises it (messages may be translated).
    static func isChangedResult(_ error: any Error) -> Bool {
        let psql = error as? PSQLError
        return serverState(of: error) == "0A000" && psql?.serverInfo?[.routine] == "RevalidateCachedQuery"
    }

    private static func serverState(of error: any Error) -> String? {
        guard let psql = error as? PSQLError, psql.code == .server else { return nil }
        return psql.serverInfo?[.sqlState]
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
