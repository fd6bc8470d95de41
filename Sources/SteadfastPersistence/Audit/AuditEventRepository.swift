import Foundation
import SteadfastDomain

/// `audit_events` (migration 650): insert and read, nothing else. The table is append-only —
/// the database refuses `UPDATE` and `DELETE` — and this type offers no way to try.
public struct AuditEventRepository: Sendable {
    /// One recorded change.
    public struct Event: Sendable, Equatable {
        public let id: UUID
        public let occurredAt: Date
        public let actor: AuditActor
        /// The action's name (`invoice.issued`); an `AuditAction` raw value.
        public let action: String
        public let object: AuditObject
        /// The account the event concerns (its security events are shown to it).
        public let accountID: UUID?
        /// JSON `{"before": {...}, "after": {...}}`.
        public let changes: String
        /// JSON `{"name": {"minor_units": n, "currency": "EUR"}}`.
        public let amounts: String
        public let ip: String?
        public let nodeID: String
        public let requestID: String?

        public init(
            id: UUID, occurredAt: Date, actor: AuditActor, action: String, object: AuditObject, accountID: UUID?, changes: String, amounts: String,
            ip: String?, nodeID: String, requestID: String?
        ) {
            self.id = id
            self.occurredAt = occurredAt
            self.actor = actor
            self.action = action
            self.object = object
            self.accountID = accountID
            self.changes = changes
            self.amounts = amounts
            self.ip = ip
            self.nodeID = nodeID
            self.requestID = requestID
        }
    }

    /// What the staff list filters on.
    public struct Filter: Sendable, Equatable {
        /// An account or API token id, a job's or gateway's name, or an actor kind (`job`, `gateway`, `system`).
        public var actor: String?
        /// An object type (`invoice`), `type:id`, or an object id alone.
        public var object: String?
        /// Only events concerning this account.
        public var accountID: UUID?
        /// Only these actions.
        public var actions: [String]?

        public init(actor: String? = nil, object: String? = nil, accountID: UUID? = nil, actions: [String]? = nil) {
            self.actor = actor
            self.object = object
            self.accountID = accountID
            self.actions = actions
        }
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func insert(_ event: Event) async throws {
        var tokenID: UUID?
        if case .apiToken(let id, _) = event.actor { tokenID = id }
        let job = event.actor.name
        try await db.query("""
            INSERT INTO audit_events (id, occurred_at, actor_kind, actor_account_id, actor_token_id, actor_job, action, object_type, object_id,
                                      account_id, changes, amounts, ip, node_id, request_id)
            VALUES (\(event.id), \(event.occurredAt), \(event.actor.kind), \(event.actor.accountID), \(tokenID), \(job), \(event.action),
                    \(event.object.type), \(event.object.id), \(event.accountID), \(event.changes), \(event.amounts), \(event.ip), \(event.nodeID), \(event.requestID))
            """)
    }

    /// How many `action` events concern `accountID` since `since` (bounds what guessing can write).
    public func count(accountID: UUID, action: String, since: Date) async throws -> Int {
        let row = try await db.first("SELECT COUNT(*) AS n FROM audit_events WHERE account_id = \(accountID) AND occurred_at > \(since) AND action = \(action)")
        return Int(try row?.int("n") ?? 0)
    }

    /// What the staff audit list can be sorted by (the allow-list): time either way (index
    /// `audit_events_occurred`), action (index `audit_events_action`, migration 652).
    public static let sortColumns = SortableColumns([
        .init("time", "occurred_at", first: .desc), .init("action", "action"),
    ], default: ListSort("time", .desc), tieBreaker: "id")

    /// Events matching `filter`, newest first unless `sort` says otherwise.
    public func list(_ filter: Filter, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Event] {
        var conditions: [SQL] = ["1 = 1"]
        if let actor = filter.actor {
            if let id = UUID(uuidString: actor) {
                conditions.append("(actor_account_id = \(id) OR actor_token_id = \(id))")
            } else {
                conditions.append("(actor_job = \(actor) OR actor_kind = \(actor))")
            }
        }
        if let object = filter.object {
            if UUID(uuidString: object) != nil {
                conditions.append("object_id = \(object.lowercased())")
            } else if let colon = object.firstIndex(of: ":") {
                conditions.append("object_type = \(String(object[..<colon])) AND object_id = \(String(object[object.index(after: colon)...]).lowercased())")
            } else {
                conditions.append("object_type = \(object)")
            }
        }
        if let accountID = filter.accountID { conditions.append("account_id = \(accountID)") }
        if let actions = filter.actions {
            conditions.append("action IN (\(SQL.joined(actions.map { (action: String) -> SQL in "\(action)" }, separator: ", ")))")
        }
        return try await db.query("""
            SELECT * FROM audit_events WHERE \(SQL.joined(conditions, separator: " AND "))
            ORDER BY \(Self.sortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.event)
    }

    static func event(_ row: SQLRow) throws -> Event {
        let actor: AuditActor
        switch try row.string("actor_kind") {
        case "account": actor = .account(try row.uuid("actor_account_id"))
        case "api_token": actor = .apiToken(id: try row.uuid("actor_token_id"), accountID: try row.uuid("actor_account_id"))
        case "job": actor = .job(try row.string("actor_job"))
        case "gateway": actor = .gateway(try row.string("actor_job"))
        default: actor = .system
        }
        return Event(
            id: try row.uuid("id"), occurredAt: try row.date("occurred_at"), actor: actor, action: try row.string("action"),
            object: AuditObject(rawType: try row.string("object_type"), id: try row.optionalString("object_id")), accountID: try row.optionalUUID("account_id"),
            changes: try row.string("changes"), amounts: try row.string("amounts"), ip: try row.optionalString("ip"), nodeID: try row.string("node_id"),
            requestID: try row.optionalString("request_id")
        )
    }
}
