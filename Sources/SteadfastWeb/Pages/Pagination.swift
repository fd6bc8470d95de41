import Foundation

/// A page of a list as the HTML pages show it: the rows of one ``PageRequest`` (fetched one
/// longer, so the page knows whether a next one exists) and the values of `partials/pagination`.
struct ListPage<Row> {
    let rows: [Row]
    let request: PageRequest
    let hasMore: Bool

    /// `fetched` is what a query with `limit: request.limit + 1` returned.
    init(_ fetched: [Row], request: PageRequest) {
        self.rows = Array(fetched.prefix(request.limit))
        self.request = request
        self.hasMore = fetched.count > request.limit
    }

    /// `partials/pagination` values; `path` and `query` (the list's filters) build the links.
    func pagination(path: String, query: [String: String]) -> [String: Any]? {
        guard request.offset > 0 || hasMore else { return nil }
        func href(_ offset: Int) -> String {
            var items = query.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            if offset > 0 { items.append(URLQueryItem(name: "offset", value: String(offset))) }
            if request.limit != 50 { items.append(URLQueryItem(name: "limit", value: String(request.limit))) }
            var components = URLComponents()
            components.path = path
            components.queryItems = items.isEmpty ? nil : items
            return components.string ?? path
        }
        let first = rows.isEmpty ? request.offset : request.offset + 1
        return [
            "hasPrevious": request.offset > 0, "previousHref": href(max(request.offset - request.limit, 0)),
            "hasNext": hasMore, "nextHref": href(request.nextOffset),
            "range": rows.isEmpty ? "nothing here" : "\(first)–\(request.offset + rows.count)",
        ]
    }
}

/// `partials/empty` values: what an empty list says, and what to do about it.
enum EmptyState {
    static func values(_ message: String, action: (href: String, label: String)? = nil) -> [String: Any] {
        ["message": message, "hasAction": action != nil, "actionHref": action?.href ?? "", "actionLabel": action?.label ?? ""]
    }
}

extension PageRequest {
    /// How many rows to ask for: one more than the page shows, to know whether more follow.
    var fetchLimit: Int { limit + 1 }
}

extension ListPage {
    /// What every list page shows around its rows: the rows under `key`, `pagination`, and
    /// the `empty` state when there are none.
    func values(_ key: String, _ shown: [[String: Any]], path: String, query: [String: String] = [:], empty: [String: Any]) -> [String: Any] {
        var values: [String: Any] = [key: shown]
        values["pagination"] = pagination(path: path, query: query)
        if rows.isEmpty { values["empty"] = empty }
        return values
    }
}
