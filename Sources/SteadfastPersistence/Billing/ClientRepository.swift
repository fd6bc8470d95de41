import Foundation
import SteadfastDomain

/// Clients as the billing staff pages list them: client accounts with their billing totals.
public struct ClientRepository: Sendable {
    /// A client and what they owe and hold.
    public struct Summary: Sendable, Hashable {
        public let id: UUID
        public let name: String
        public let email: String
        public let createdAt: Date
        public let country: String?
        /// Sum of balances due on payable invoices, in minor units.
        public let outstanding: Int64
        public let credit: Int64
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// The orders a client list can be read in.
    /// What the client list can be sorted by (`?sort=`; the allow-list).
    public static let sortColumns = SortableColumns([
        .init("created", "a.created_at", first: .desc), .init("name", "LOWER(a.name)"), .init("email", "a.email_normalized"),
        .init("country", "p.country", nullable: true), .init("outstanding", "outstanding", first: .desc), .init("credit", "credit", first: .desc),
    ], default: ListSort("created", .desc), tieBreaker: "a.id")

    /// Client accounts (newest first unless `sort` says otherwise), optionally matching `search`
    /// in name or e-mail.
    public func list(search: String?, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [Summary] {
        let order = Self.sortColumns.orderBy(sort)
        let filter: SQL
        if let search, !search.isEmpty {
            let pattern = "%" + search.lowercased().replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "") + "%"
            filter = "AND (LOWER(a.name) LIKE \(pattern) OR a.email_normalized LIKE \(pattern))"
        } else {
            filter = ""
        }
        return try await db.query("""
            SELECT a.id, a.name, a.email, a.created_at, p.country,
                   (SELECT CAST(COALESCE(SUM(i.total - i.amount_paid), 0) AS BIGINT) FROM invoices i
                     WHERE i.client_id = a.id AND i.status IN ('unpaid', 'collections')) AS outstanding,
                   (SELECT CAST(COALESCE(SUM(c.amount), 0) AS BIGINT) FROM credit_entries c WHERE c.client_id = a.id) AS credit
            FROM accounts a LEFT JOIN billing_profiles p ON p.client_id = a.id
            WHERE a.role = 'client' \(filter)
            ORDER BY \(order) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.summary)
    }

    public func find(id: UUID) async throws -> Summary? {
        try await db.first("""
            SELECT a.id, a.name, a.email, a.created_at, p.country,
                   (SELECT CAST(COALESCE(SUM(i.total - i.amount_paid), 0) AS BIGINT) FROM invoices i
                     WHERE i.client_id = a.id AND i.status IN ('unpaid', 'collections')) AS outstanding,
                   (SELECT CAST(COALESCE(SUM(c.amount), 0) AS BIGINT) FROM credit_entries c WHERE c.client_id = a.id) AS credit
            FROM accounts a LEFT JOIN billing_profiles p ON p.client_id = a.id
            WHERE a.role = 'client' AND a.id = \(id)
            """).map(Self.summary)
    }

    static func summary(_ row: SQLRow) throws -> Summary {
        Summary(
            id: try row.uuid("id"), name: try row.string("name"), email: try row.string("email"), createdAt: try row.date("created_at"),
            country: try row.optionalString("country"), outstanding: try row.int("outstanding"), credit: try row.int("credit")
        )
    }
}
