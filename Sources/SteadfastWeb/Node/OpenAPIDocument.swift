import Foundation
import Hummingbird
import SteadfastJobs
import SteadfastPersistence

/// The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
///
/// Written by hand as a table of operations, one per route, each feature's in its own folder
/// (`OpenAPIDocument+<Feature>.swift`); `OpenAPITests` compares its paths and methods with the
/// router's registered `/api/v1` routes, so the two cannot drift apart.
enum OpenAPIDocument {
    /// Who may call an operation.
    enum Access: String {
        case anyone, account, staff, signature
    }

    struct Operation {
        let method: String
        let path: String
        let summary: String
        let access: Access
        var idempotencyKey: Bool = false
        var body: [String: Any]? = nil
        /// A staff list's sort allow-list: the operation then takes `sort` (one of its keys) and
        /// `dir` (asc|desc), the one grammar of `ListSorting` (docs/architecture.md, "Sorting").
        var sort: SortableColumns? = nil
        var tag: String
    }

    static func object(_ properties: [String: [String: Any]], required: [String] = []) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required]
    }

    static var string: [String: Any] { ["type": "string"] }
    static var uuid: [String: Any] { ["type": "string", "format": "uuid"] }
    static var minor: [String: Any] { ["type": "integer", "format": "int64", "description": "amount in minor units (cents) of the currency"] }
    static var bool: [String: Any] { ["type": "boolean"] }

    /// Every operation: the few of the API itself, then each feature's.
    static var operations: [Operation] {
        let core: [Operation] = [
            Operation(method: "post", path: "/auth/register", summary: "Create a client account", access: .anyone, body: object(["email": string, "password": string, "name": string], required: ["email", "password", "name"]), tag: "accounts"),
            Operation(method: "post", path: "/auth/login", summary: "Log in (sets the session cookie)", access: .anyone, body: object(["email": string, "password": string], required: ["email", "password"]), tag: "accounts"),
            Operation(method: "post", path: "/auth/logout", summary: "Log out", access: .anyone, tag: "accounts"),
            Operation(method: "get", path: "/me", summary: "The logged-in account", access: .account, tag: "accounts"),
            Operation(method: "get", path: "/openapi.json", summary: "This document", access: .anyone, tag: "meta"),
        ]
        let features: [[Operation]] = [
            fileOperations, billingOperations, jobOperations, supportOperations, mailOperations,
            accountOperations, auditOperations, contentOperations, documentOperations, staffOperations, clientUserOperations,
        ]
        return core + features.joined()
    }

    /// The document as JSON text.
    static let json: String = {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            var parameters: [[String: Any]] = []
            var cursor = operation.path[...]
            while let open = cursor.firstIndex(of: "{"), let close = cursor[open...].firstIndex(of: "}") {
                let name = String(cursor[cursor.index(after: open)..<close])
                parameters.append(["name": name, "in": "path", "required": true, "schema": name == "id" ? uuid : string])
                cursor = cursor[cursor.index(after: close)...]
            }
            if let sort = operation.sort {
                parameters.append([
                    "name": "sort", "in": "query", "required": false,
                    "description": "the column to sort by (default \(sort.defaultSort.field) \(sort.defaultSort.direction.rawValue)); any other value is 400",
                    "schema": ["type": "string", "enum": sort.keys],
                ])
                parameters.append([
                    "name": "dir", "in": "query", "required": false,
                    "description": "asc or desc (default: the column's first direction); any other value is 400",
                    "schema": ["type": "string", "enum": SortDirection.allCases.map(\.rawValue)],
                ])
            }
            if operation.idempotencyKey {
                parameters.append([
                    "name": "Idempotency-Key", "in": "header", "required": operation.path != "/cart/checkout",
                    "description": "a unique string per intended operation; a retry with the same key returns the original answer", "schema": string,
                ])
            }
            var entry: [String: Any] = [
                "summary": operation.summary, "tags": [operation.tag], "parameters": parameters,
                "responses": [
                    "2XX": ["description": "success (application/json)"],
                    "4XX": ["description": "error: {\"error\": {\"code\", \"message\", \"field\"}, \"request_id\"}", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
                ],
            ]
            switch operation.access {
            case .anyone: entry["security"] = [[String: [String]]()]
            case .account: entry["security"] = [["session": [String]()]]
            case .staff: entry["security"] = [["session": [String]()], ["bearer": [String]()]]
            case .signature: entry["security"] = [["signature": [String]()]]
            }
            if let body = operation.body {
                entry["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
            }
            paths[operation.path, default: [:]][operation.method] = entry
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Steadfast API", "version": "1",
                "description": "Billing and accounts API. Amounts are integers in minor units with their currency; days are YYYY-MM-DD. Requests that change state must be sent as application/json.",
            ],
            "servers": [["url": "/api/v1"]],
            "paths": paths,
            "components": [
                "securitySchemes": [
                    "session": ["type": "apiKey", "in": "cookie", "name": "steadfast_session"],
                    "bearer": ["type": "http", "scheme": "bearer", "description": "staff API token (sft_...)"],
                    "signature": ["type": "apiKey", "in": "header", "name": "X-Signature"],
                ],
                "schemas": [
                    "Error": object([
                        "error": object(["code": string, "message": string, "field": ["type": ["string", "null"]]], required: ["code", "message"]),
                        "request_id": string,
                    ], required: ["error", "request_id"]),
                ],
            ],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }()

    static func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        api.get("openapi.json") { _, _ in PortalJSONEncoder.response(ByteBuffer(string: json), status: .ok) }
    }
}
