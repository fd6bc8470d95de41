import Foundation

/// One result row: values by column name, with typed accessors that understand both engines'
/// representations (see ``SQLValue``).
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value of `column`; throws if the statement did not return that column.
    public func value(_ column: String) throws(DatabaseError) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else {
            throw DatabaseError(.decoding, message: "no column '\(column)' in result")
        }
        return values[index]
    }

    public func isNull(_ column: String) throws(DatabaseError) -> Bool { try value(column) == .null }

    public func string(_ column: String) throws(DatabaseError) -> String {
        switch try value(column) {
        case .text(let s): return s
        case .uuid(let u): return u.uuidString.lowercased()
        case .int(let i): return String(i)
        case let other: throw DatabaseError(.decoding, message: "column '\(column)': expected text, got \(other.kind)")
        }
    }

    public func optionalString(_ column: String) throws(DatabaseError) -> String? {
        try isNull(column) ? nil : try string(column)
    }

    public func int(_ column: String) throws(DatabaseError) -> Int64 {
        switch try value(column) {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .text(let s) where Int64(s) != nil: return Int64(s)!
        case let other: throw DatabaseError(.decoding, message: "column '\(column)': expected integer, got \(other.kind)")
        }
    }

    public func optionalInt(_ column: String) throws(DatabaseError) -> Int64? {
        try isNull(column) ? nil : try int(column)
    }

    public func bool(_ column: String) throws(DatabaseError) -> Bool {
        switch try value(column) {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case let other: throw DatabaseError(.decoding, message: "column '\(column)': expected boolean, got \(other.kind)")
        }
    }

    public func uuid(_ column: String) throws(DatabaseError) -> UUID {
        switch try value(column) {
        case .uuid(let u): return u
        case .text(let s):
            guard let u = UUID.canonical(s) else { throw DatabaseError(.decoding, message: "column '\(column)': expected uuid, got text") }
            return u
        case let other: throw DatabaseError(.decoding, message: "column '\(column)': expected uuid, got \(other.kind)")
        }
    }

    public func optionalUUID(_ column: String) throws(DatabaseError) -> UUID? {
        try isNull(column) ? nil : try uuid(column)
    }

    public func date(_ column: String) throws(DatabaseError) -> Date {
        switch try value(column) {
        case .timestamp(let d): return d
        case .int(let micros): return Date(microsecondsSince1970: micros)
        case let other: throw DatabaseError(.decoding, message: "column '\(column)': expected timestamp, got \(other.kind)")
        }
    }

    public func optionalDate(_ column: String) throws(DatabaseError) -> Date? {
        try isNull(column) ? nil : try date(column)
    }

    public func bytes(_ column: String) throws(DatabaseError) -> [UInt8] {
        switch try value(column) {
        case .bytes(let b): return b
        case .text(let s): return Array(s.utf8)
        case let other: throw DatabaseError(.decoding, message: "column '\(column)': expected bytes, got \(other.kind)")
        }
    }
}

extension SQLValue {
    /// A short name of the case, for error messages (never the value: it may be a secret).
    var kind: String {
        switch self {
        case .null: "null"
        case .int: "integer"
        case .text: "text"
        case .bool: "boolean"
        case .uuid: "uuid"
        case .timestamp: "timestamp"
        case .bytes: "bytes"
        }
    }
}
