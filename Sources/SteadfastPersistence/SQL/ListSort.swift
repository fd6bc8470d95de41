/// Which way a list is sorted.
public enum SortDirection: String, Sendable, CaseIterable {
    case asc, desc
}

/// A list's order as asked for: a column key of the list's ``SortableColumns`` and a direction.
/// The key is only ever looked up in that allow-list, never put into SQL.
public struct ListSort: Sendable, Hashable {
    public let field: String
    public let direction: SortDirection

    public init(_ field: String, _ direction: SortDirection) {
        self.field = field
        self.direction = direction
    }
}

/// The allow-list of one list's sortable columns: a key (what `?sort=` names) for each SQL
/// expression, written in the repository as a literal (``SQL`` accepts no run-time text), and a
/// unique tie-breaker appended to every order, so pages of a sorted list never overlap or skip a
/// row however many rows share a value. Empty values sort last on both engines.
public struct SortableColumns: Sendable {
    public struct Column: Sendable {
        public let key: String
        let expression: SQL
        /// The direction a first click on the column gives (newest or largest first for dates
        /// and amounts, A–Z for names).
        public let firstDirection: SortDirection
        /// Whether the expression can be NULL (then NULLs go last both ways, on both engines).
        let nullable: Bool

        public init(_ key: String, _ expression: SQL, first: SortDirection = .asc, nullable: Bool = false) {
            self.key = key
            self.expression = expression
            self.firstDirection = first
            self.nullable = nullable
        }
    }

    public let columns: [Column]
    public let defaultSort: ListSort
    let tieBreaker: SQL

    /// `defaultSort.field` must be one of `columns`; `tieBreaker` must be unique per row (an id).
    public init(_ columns: [Column], default defaultSort: ListSort, tieBreaker: SQL) {
        precondition(columns.contains { $0.key == defaultSort.field }, "the default sort must be one of the columns")
        self.columns = columns
        self.defaultSort = defaultSort
        self.tieBreaker = tieBreaker
    }

    public var keys: [String] { columns.map(\.key) }

    public func column(_ key: String) -> Column? {
        columns.first { $0.key == key }
    }

    /// The `ORDER BY` body for `sort` (the default when `nil` or not in the list).
    public func orderBy(_ sort: ListSort?) -> SQL {
        let sort = sort.flatMap { column($0.field) != nil ? $0 : nil } ?? defaultSort
        let chosen = columns.first { $0.key == sort.field }!
        let direction: SQL = sort.direction == .asc ? "ASC" : "DESC"
        let nullsLast: SQL = chosen.nullable ? "CASE WHEN \(chosen.expression) IS NULL THEN 1 ELSE 0 END, " : ""
        return "\(nullsLast)\(chosen.expression) \(direction), \(tieBreaker) \(direction)"
    }
}
