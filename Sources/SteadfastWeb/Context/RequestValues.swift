import Foundation
import Hummingbird
import SteadfastDomain

/// What every feature's handlers read from a request: a path id, the page of a list, and the
/// one paged JSON answer (the logged-in account: `SignedIn.swift`). Staff routes are guarded by
/// their group's ``RequirePermission`` (the one staff check); object-level checks happen in the
/// services: a client's look-ups always carry their own id, so anything else is a 404.
extension PortalRequestContext {
    /// The UUID in path parameter `name`; a malformed id is a 404 like any unknown one.
    func id(_ name: String = "id", what: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw BillingError.notFound(what) }
        return id
    }

    /// `limit` (1-200, default 50) and `offset` from the query string (400 when malformed).
    func page(_ request: Request) throws -> PageRequest {
        try PageRequest(request)
    }

    /// The one way an API list answers: the page `request` asks for, its rows fetched with that
    /// `limit` and `offset`, each shown as `item`, answered as `{"items", "limit", "offset"}`
    /// through the context's encoder.
    func pagedJSON<Row, Item: Encodable>(
        _ request: Request, item: (Row) -> Item, fetch: (_ limit: Int, _ offset: Int) async throws -> [Row]
    ) async throws -> Response {
        let page = try page(request)
        let rows = try await fetch(page.limit, page.offset)
        return try responseEncoder.encode(BillingViews.Page(items: rows.map(item), limit: page.limit, offset: page.offset), from: request, context: self)
    }
}

extension UUID {
    /// Lower-case text, the form every API answer and URL uses.
    var text: String { uuidString.lowercased() }
}
