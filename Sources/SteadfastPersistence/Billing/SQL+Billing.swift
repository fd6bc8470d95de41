extension SQL.StringInterpolation {
    /// An optional bound parameter: `NULL` when `nil` (spelled out so optional columns read as
    /// such at the call site, without the compiler's "debug description" warning).
    public mutating func appendInterpolation<T: SQLBindable>(_ value: T?) {
        fragments.append(.bind(value?.sqlValue ?? .null))
    }
}

extension SQL {
    /// ` FOR UPDATE` on PostgreSQL (row lock until the transaction ends); nothing on SQLite,
    /// whose `BEGIN IMMEDIATE` transactions already run one at a time.
    public static func forUpdate(_ dialect: SQLDialect) -> SQL {
        dialect == .postgres ? " FOR UPDATE" : ""
    }

    /// `(v1, v2, ...)` for an `IN` list; never empty (callers check).
    static func list<T: SQLBindable>(_ values: [T]) -> SQL {
        let parts: [SQL] = values.map { value in "\(value)" }
        return "(\(SQL.joined(parts, separator: ", ")))"
    }
}

