import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The audit trail (docs/accounts.md): staff search it at `GET /api/v1/admin/audit-events` and
/// `/admin/audit`; a client reads their own security events at `GET /api/v1/me/security-events`
/// (the account page shows the latest).
struct AuditController: Sendable {
    let log: AuditLog
    let pages: PageRenderer

    /// One event as the API shows it.
    struct EventView: Encodable {
        struct Actor: Encodable {
            let kind: String
            let accountId: String?
            let tokenId: String?
            let job: String?
            /// The payment gateway or inbound channel (`stripe`, `testcard`, `mail`) for `gateway`.
            let gateway: String?
        }

        struct Object: Encodable {
            let type: String
            let id: String?
        }

        let id: String
        let occurredAt: Date
        let actor: Actor
        let action: String
        let object: Object
        let accountId: String?
        let changes: JSONText
        let amounts: JSONText
        let ip: String?
        let nodeId: String
        let requestId: String?

        init(_ event: AuditEventRepository.Event) {
            id = event.id.text
            occurredAt = event.occurredAt
            var token: String?, job: String?, gateway: String?
            switch event.actor {
            case .apiToken(let tokenID, _): token = tokenID.text
            case .job(let name): job = name
            case .gateway(let name): gateway = name
            case .account, .system: break
            }
            actor = Actor(kind: event.actor.kind, accountId: event.actor.accountID?.text, tokenId: token, job: job, gateway: gateway)
            action = event.action
            object = Object(type: event.object.type, id: event.object.id)
            accountId = event.accountID?.text
            changes = JSONText(event.changes)
            amounts = JSONText(event.amounts)
            ip = event.ip
            nodeId = event.nodeID
            requestId = event.requestID
        }
    }

    /// JSON stored as text (written by `AuditTrail`), embedded as JSON rather than a string.
    struct JSONText: Encodable {
        let value: JSONValue

        init(_ text: String) {
            value = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .object([:])
        }

        func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
    }

    /// The shapes `AuditTrail` writes: objects of strings, numbers and objects.
    enum JSONValue: Codable {
        case string(String), number(Int64), object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let number = try? container.decode(Int64.self) {
                self = .number(number)
            } else {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            case .object(let object): try container.encode(object)
            }
        }
    }

    func addRoutes(api: RouterGroup<PortalRequestContext>, html: RouterGroup<PortalRequestContext>) {
        api.group("admin/audit-events").add(middleware: RequirePermission(.staffManage)).get("", use: eventsJSON)
        api.get("me/security-events", use: securityEventsJSON)
        html.group("admin/audit").add(middleware: RequirePermission(.staffManage)).get("", use: eventsPage)
    }

    /// `GET /api/v1/admin/audit-events?actor=&object=&sort=&dir=&limit=&offset=`, newest first
    /// unless `sort` (`AuditEventRepository.sortColumns`) says otherwise.
    @Sendable func eventsJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        return try await context.pagedJSON(request, item: EventView.init) {
            try await log.events(actor: query.get("actor"), object: query.get("object"), sort: try ListSorting.parse(request, columns: AuditEventRepository.sortColumns), limit: $0, offset: $1)
        }
    }

    /// `GET /api/v1/me/security-events?limit=&offset=`: the caller's own log-ins and credential changes.
    @Sendable func securityEventsJSON(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return try await context.pagedJSON(request, item: EventView.init) { try await log.securityEvents(accountID: account.id, limit: $0, offset: $1) }
    }

    /// `/admin/audit?actor=&object=&sort=&dir=&offset=`: the staff page with the same filters,
    /// sortable headings and pages.
    @Sendable func eventsPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let actor = query.get("actor") ?? "", object = query.get("object") ?? ""
        let table = try SortableTable(
            request, columns: AuditEventRepository.sortColumns, path: "/admin/audit", filters: ["actor": actor, "object": object], defaultLimit: 100, maxLimit: 100
        )
        let list = try await table.fetch { try await log.events(actor: actor, object: object, sort: $0, limit: $1, offset: $2) }
        var values = table.values("events", list, rows: list.rows.map(Self.row), empty: EmptyState.values(
            actor.isEmpty && object.isEmpty ? "No events yet." : "No events match these filters."
        ), headings: [
            table.column("When", key: "time"), table.column("Who"), table.column("Action", key: "action"),
            table.column("Object"), table.column("Changes"), table.column("From"),
        ])
        values["actor"] = actor
        values["object"] = object
        return pages.page("accounts/audit", title: "Audit trail", values: values, context: context)
    }

    /// An event as a table row of the staff page and the account page.
    static func row(_ event: AuditEventRepository.Event) -> [String: Any] {
        let actor: String = switch event.actor {
        case .account(let id): "account \(id.text)"
        case .apiToken(let id, let account): "API token \(id.text) of \(account.text)"
        case .job(let name): "job \(name)"
        case .gateway(let name): "gateway \(name)"
        case .system: "system"
        }
        return [
            "occurredAt": AccountPagesController.format(event.occurredAt), "actor": actor, "actorID": event.actor.accountID?.text ?? "",
            "action": event.action, "objectType": event.object.type, "objectID": event.object.id ?? "", "changes": event.changes, "amounts": event.amounts == "{}" ? "" : event.amounts,
            "ip": event.ip ?? "", "node": event.nodeID, "requestID": event.requestID ?? "",
        ]
    }
}
