import Foundation

/// A value bound into a statement or read from a row, independent of the database engine.
///
/// Each engine maps the cases onto its own types: PostgreSQL stores `uuid`, `timestamptz`,
/// `boolean` and `bytea` natively; SQLite stores UUIDs as lower-case text, instants as integer
/// microseconds since 1970 and booleans as 0/1. Row accessors accept either representation.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)
    case bool(Bool)
    case uuid(UUID)
    case timestamp(Date)
    case bytes([UInt8])
}

/// A Swift type that can be bound as a statement parameter.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .bool(self) } }
extension UUID: SQLBindable { public var sqlValue: SQLValue { .uuid(self) } }
extension Date: SQLBindable { public var sqlValue: SQLValue { .timestamp(self) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Date {
    /// Whole microseconds since 1970, the unit SQLite stores instants in (PostgreSQL's precision).
    var microsecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
    init(microsecondsSince1970 value: Int64) { self.init(timeIntervalSince1970: Double(value) / 1_000_000) }
}
