/// A list read page by page, `limit` rows at a time from the first, until a page comes back
/// short: the sorted-list tests compare it with the whole list read at once (no row twice, none
/// left out, however many rows share a sort key).
public func pageByPage<Row>(limit: Int, _ page: (_ limit: Int, _ offset: Int) async throws -> [Row]) async throws -> [Row] {
    var rows: [Row] = []
    var offset = 0
    while true {
        let next = try await page(limit, offset)
        rows += next
        if next.count < limit { return rows }
        offset += limit
    }
}
