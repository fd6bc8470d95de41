import Foundation
import Hummingbird
import SteadfastPersistence

/// The one sort grammar of every staff list (pages and API alike): `?sort=<column>&dir=asc|desc`.
///
/// - `sort` absent: the list's default order; `dir` absent: the column's first direction
///   (newest or largest first for dates and amounts, A–Z for names).
/// - A `sort` the list does not offer, or a `dir` other than `asc`/`desc`, is a **400** naming
///   the parameter and the columns that can be sorted on (``InvalidParameter``), never ignored
///   in silence: a link that sorts differently from what it says is worse than an error.
/// - The column key is only looked up in the list's ``SortableColumns`` allow-list; what reaches
///   SQL is the repository's literal expression for it (docs/architecture.md, "How to write a page").
enum ListSorting {
    /// The order `request` asks for, checked against `columns`.
    static func parse(_ request: Request, columns: SortableColumns) throws(InvalidParameter) -> ListSort {
        let query = request.uri.queryParameters
        return try parse(sort: query.get("sort"), dir: query.get("dir"), columns: columns)
    }

    static func parse(sort: String?, dir: String?, columns: SortableColumns) throws(InvalidParameter) -> ListSort {
        let field = (sort?.isEmpty ?? true) ? nil : sort
        guard let key = field ?? (dir == nil ? nil : columns.defaultSort.field) else { return columns.defaultSort }
        guard let column = columns.column(key) else {
            throw InvalidParameter(name: "sort", message: "This list cannot be sorted by “\(String(key.prefix(40)))”; sort by one of: \(columns.keys.joined(separator: ", ")).")
        }
        guard let dir, !dir.isEmpty else {
            return field == nil ? columns.defaultSort : ListSort(key, column.firstDirection)
        }
        guard let direction = SortDirection(rawValue: dir) else {
            throw InvalidParameter(name: "dir", message: "dir must be asc or desc, not “\(String(dir.prefix(20)))”.")
        }
        return ListSort(key, direction)
    }

    /// The query items that keep `sort` in links (pagination, filters): nothing for the default.
    static func query(_ sort: ListSort, columns: SortableColumns) -> [String: String] {
        sort == columns.defaultSort ? [:] : ["sort": sort.field, "dir": sort.direction.rawValue]
    }

    /// A table heading for `partials/table-head`: `label`, and when `key` is given a link that
    /// sorts by that column (the other way round when it is already the order) with `aria-sort`
    /// on the current column. `query` holds the list's filters, kept in the link; the offset is
    /// dropped (a new order starts at its first page).
    static func column(
        _ label: String, key: String? = nil, numeric: Bool = false, sort: ListSort, columns: SortableColumns, path: String, query: [String: String]
    ) -> [String: Any] {
        var values: [String: Any] = ["label": label, "numeric": numeric, "sortable": false]
        guard let key, let column = columns.column(key) else { return values }
        let current = sort.field == key
        let next: SortDirection = current ? (sort.direction == .asc ? .desc : .asc) : column.firstDirection
        var items = query.filter { !$0.value.isEmpty && $0.key != "sort" && $0.key != "dir" && $0.key != "offset" }
            .sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        items += [URLQueryItem(name: "sort", value: key), URLQueryItem(name: "dir", value: next.rawValue)]
        var components = URLComponents()
        components.path = path
        components.queryItems = items
        values["sortable"] = true
        values["href"] = components.string ?? path
        if current {
            values["ariaSort"] = sort.direction == .asc ? "ascending" : "descending"
            values["arrow"] = sort.direction == .asc ? "▲" : "▼"
        }
        values["hint"] = current ? "sorted \(sort.direction == .asc ? "ascending" : "descending"); sort \(next == .asc ? "ascending" : "descending")" : "sort"
        return values
    }
}

/// One sorted, paged staff list as its page reads it, once: the order (`sort`, `dir`, checked
/// against the list's allow-list), the page (`offset`, `limit`) and the list's filters. Then
/// ``fetch(_:)`` gets one page of rows, one ``column`` per heading, and ``values(_:_:rows:empty:headings:)``
/// everything the template shows around the rows:
///
///     let table = try SortableTable(request, columns: JobStore.sortColumns, path: "/admin/jobs", filters: ["state": state.text])
///     let list = try await table.fetch { try await store.jobs(state: state.selected, sort: $0, limit: $1, offset: $2) }
///     let values = table.values("jobs", list, rows: list.rows.map(row), empty: EmptyState.values("No jobs."), headings: [
///         table.column("Job", key: "name"), table.column("Schedule"),
///     ])
struct SortableTable {
    let sort: ListSort
    let columns: SortableColumns
    let path: String
    /// The list's filters (kept in the headings' and the pages' links).
    let filters: [String: String]
    /// The page asked for.
    let page: PageRequest

    init(
        _ request: Request, columns: SortableColumns, path: String, filters: [String: String], defaultLimit: Int = 50, maxLimit: Int = 200
    ) throws(InvalidParameter) {
        self.page = try PageRequest(request, defaultLimit: defaultLimit, maxLimit: maxLimit)
        self.sort = try ListSorting.parse(request, columns: columns)
        self.columns = columns
        self.path = path
        self.filters = filters
    }

    /// One page of the list in the order asked for: `fetch(sort, limit, offset)` is asked for
    /// one row more than the page shows, so the page knows whether another follows.
    func fetch<Row>(_ fetch: (ListSort, Int, Int) async throws -> [Row]) async throws -> ListPage<Row> {
        ListPage(try await fetch(sort, page.fetchLimit, page.offset), request: page)
    }

    /// A heading; `key` (a column of the allow-list) makes it a sort link, `hidden` keeps its
    /// label for screen readers only.
    func column(_ label: String, key: String? = nil, numeric: Bool = false, hidden: Bool = false) -> [String: Any] {
        var values = ListSorting.column(label, key: key, numeric: numeric, sort: sort, columns: columns, path: path, query: filters)
        values["hidden"] = hidden
        return values
    }

    /// `partials/table-head` values (`headings`) and the hidden fields that keep the order when
    /// the filter form is submitted (`sortFields`).
    func values(_ headings: [[String: Any]]) -> [String: Any] {
        [
            "headings": headings, "sortableTable": true,
            "sortFields": ListSorting.query(sort, columns: columns).sorted { $0.key > $1.key }.map { ["name": $0.key, "value": $0.value] },
        ]
    }

    /// Everything a list template shows around its rows: `rows` under `key`, `pagination`
    /// (links that keep the filters and the order), `empty` when the page has no rows, the
    /// headings and the filter form's `sortFields`.
    func values<Row>(_ key: String, _ list: ListPage<Row>, rows: [[String: Any]], empty: [String: Any], headings: [[String: Any]]) -> [String: Any] {
        list.values(key, rows, path: path, query: query, empty: empty).merging(values(headings)) { $1 }
    }

    /// Filters plus the order: what pagination links carry.
    var query: [String: String] {
        filters.merging(ListSorting.query(sort, columns: columns)) { $1 }
    }
}

/// A list filter that takes one of a fixed set of values (`?state=failing`), read the same way by
/// a page and its API: absent or empty is no filter; any other value the set does not hold is a
/// **400** naming the parameter and the values it takes, as an unknown sort column is.
struct ListChoice<Choice: RawRepresentable & CaseIterable & Equatable> where Choice.RawValue == String {
    let name: String
    let selected: Choice?

    init(_ request: Request, _ name: String) throws(InvalidParameter) {
        let text = request.uri.queryParameters.get(name) ?? ""
        self.name = name
        guard !text.isEmpty else {
            self.selected = nil
            return
        }
        guard let choice = Choice(rawValue: text) else {
            throw InvalidParameter(name: name, message: "\(name) must be one of: \(Choice.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        self.selected = choice
    }

    /// The value as the list's links keep it (empty for no filter).
    var text: String { selected?.rawValue ?? "" }

    /// The filter `<select>`'s options: `value`, `label` and `selected`.
    func options(label: (Choice) -> String = { $0.rawValue }) -> [[String: Any]] {
        Choice.allCases.map { ["value": $0.rawValue, "label": label($0), "selected": $0 == selected] }
    }
}
