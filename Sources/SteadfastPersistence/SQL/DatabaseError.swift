/// An error from the persistence layer, the same whichever engine raised it.
///
/// `description` never includes bound values or row data, so it is safe to log; the engine's
/// own message (which may quote data) is only in `debugDescription`.
public struct DatabaseError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is; callers branch on this, not on messages.
    public enum Kind: String, Sendable {
        /// A unique constraint refused the write (PostgreSQL 23505, SQLite UNIQUE).
        case uniqueViolation
        /// A foreign-key or check constraint refused the write.
        case constraintViolation
        /// The connection failed or was lost; the statement may or may not have run.
        case connectionFailure
        /// The server is read-only (a standby or a demoted primary, SQLSTATE 25006).
        case readOnly
        /// The database did not answer within the configured bound.
        case timeout
        /// A serialization failure or deadlock, or a PostgreSQL prepared statement whose table
        /// changed under it: nothing was applied, and the work can be run again.
        case serializationFailure
        /// A result could not be decoded into the expected type.
        case decoding
        /// Configuration is wrong (bad URL, missing file...).
        case configuration
        /// Anything else.
        case other
    }

    public let kind: Kind
    /// A message safe for logs.
    public let message: String
    /// The constraint name for constraint violations, when the engine reports it.
    public let constraint: String?
    /// SQLSTATE (PostgreSQL) or result code (SQLite), when known.
    public let code: String?
    /// The engine's full message; may quote data, so only for `String(reflecting:)`.
    let detail: String?
    /// For failures during a transaction: `true` when COMMIT may have reached the server, so the
    /// work may have been applied and must not be blindly retried.
    public let mayHaveCommitted: Bool

    public init(
        _ kind: Kind, message: String, constraint: String? = nil, code: String? = nil, detail: String? = nil,
        mayHaveCommitted: Bool = false
    ) {
        self.kind = kind
        self.message = message
        self.constraint = constraint
        self.code = code
        self.detail = detail
        self.mayHaveCommitted = mayHaveCommitted
    }

    public var description: String {
        var s = "database error (\(kind.rawValue)): \(message)"
        if let code { s += " [\(code)]" }
        return s
    }

    public var debugDescription: String {
        description + (detail.map { " — \($0)" } ?? "")
    }
}
