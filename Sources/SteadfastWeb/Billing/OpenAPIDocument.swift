import Foundation
import Hummingbird
import SteadfastJobs
import SteadfastPersistence

/// The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
///
/// Written by hand as a table of operations, one per route; `OpenAPITests` compares its paths
/// and methods with the router's registered `/api/v1` routes, so the two cannot drift apart.
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
    static var prices: [String: Any] { ["type": "array", "items": object(["cycle": ["type": "string", "enum": ["one_time", "monthly", "quarterly", "semi_annually", "annually", "biennially"]], "recurring": minor, "setup_fee": minor], required: ["cycle", "recurring"])] }
    static var lines: [String: Any] { ["type": "array", "items": object(["description": string, "amount": minor, "taxable": bool], required: ["description", "amount"])] }
    static var product: [String: Any] { object([
        "group_id": uuid, "name": string, "description": string, "pricing": prices, "hidden": bool, "retired": bool,
        "stock_limit": ["type": ["integer", "null"]], "taxable": bool,
        "options": ["type": "array", "items": object(["name": string, "choices": ["type": "array", "items": object(["name": string, "pricing": prices], required: ["name"])]], required: ["name", "choices"])],
    ], required: ["group_id", "name", "pricing"]) }

    static var operations: [Operation] { [
        Operation(method: "post", path: "/auth/register", summary: "Create a client account", access: .anyone, body: object(["email": string, "password": string, "name": string], required: ["email", "password", "name"]), tag: "accounts"),
        Operation(method: "post", path: "/auth/login", summary: "Log in (sets the session cookie)", access: .anyone, body: object(["email": string, "password": string], required: ["email", "password"]), tag: "accounts"),
        Operation(method: "post", path: "/auth/logout", summary: "Log out", access: .anyone, tag: "accounts"),
        Operation(method: "get", path: "/me", summary: "The logged-in account", access: .account, tag: "accounts"),
        Operation(method: "get", path: "/openapi.json", summary: "This document", access: .anyone, tag: "meta"),

        Operation(method: "post", path: "/files", summary: "Upload a file: the raw bytes as the body, with Content-Length, Content-Type and X-Upload-Filename (percent-encoded); at most storage.max_upload_size", access: .account, tag: "files"),
        Operation(method: "get", path: "/files", summary: "The client's files, newest first (limit ≤ 200, default 50; offset)", access: .account, tag: "files"),
        Operation(method: "get", path: "/files/{id}", summary: "One file's metadata (size, SHA-256, locations)", access: .account, tag: "files"),
        Operation(method: "get", path: "/files/{id}/content", summary: "The file's bytes (Range: bytes=a-b gives 206)", access: .account, tag: "files"),
        Operation(method: "get", path: "/files/{id}/link", summary: "A download link valid for 5 minutes", access: .account, tag: "files"),
        Operation(method: "delete", path: "/files/{id}", summary: "Delete the file and every stored copy", access: .account, tag: "files"),

        Operation(method: "get", path: "/catalogue", summary: "Product groups and products on sale (public: no account needed)", access: .anyone, tag: "client"),
        Operation(method: "get", path: "/catalogue/products/{id}", summary: "One product (hidden ones too, by id)", access: .anyone, tag: "client"),
        Operation(method: "get", path: "/cart", summary: "The cart, priced with the client's tax", access: .account, tag: "client"),
        Operation(method: "post", path: "/cart/items", summary: "Add a product to the cart", access: .account, body: object(["product_id": uuid, "cycle": string, "options": ["type": "object", "additionalProperties": uuid, "description": "option id → choice id"]], required: ["product_id", "cycle"]), tag: "client"),
        Operation(method: "delete", path: "/cart/items/{id}", summary: "Remove an item from the cart", access: .account, tag: "client"),
        Operation(method: "post", path: "/cart/checkout", summary: "Place the order: creates the order and its issued invoice (Idempotency-Key optional)", access: .account, idempotencyKey: true, tag: "client"),
        Operation(method: "get", path: "/orders", summary: "The client's orders", access: .account, tag: "client"),
        Operation(method: "get", path: "/orders/{id}", summary: "One of the client's orders", access: .account, tag: "client"),
        Operation(method: "get", path: "/services", summary: "The client's services", access: .account, tag: "client"),
        Operation(method: "get", path: "/services/{id}", summary: "One of the client's services", access: .account, tag: "client"),
        Operation(method: "get", path: "/invoices", summary: "The client's invoices", access: .account, tag: "client"),
        Operation(method: "get", path: "/invoices/{id}", summary: "One of the client's invoices, with lines", access: .account, tag: "client"),
        Operation(method: "post", path: "/invoices/{id}/pay", summary: "Pay an invoice: testcard with card_token charges now; testcard without a token returns a pending checkout (202); stripe with payment_method (pm_...) confirms on the server (200 paid, 402 declined), without it returns 202 with the PaymentIntent's client_secret; banktransfer returns instructions. Requires Idempotency-Key; a retry returns the original answer", access: .account, idempotencyKey: true, body: object(["gateway": ["type": "string", "enum": ["testcard", "stripe", "banktransfer"]], "amount": minor, "card_token": ["type": "string", "enum": ["tok_visa", "tok_mastercard", "tok_declined"]], "payment_method": string], required: ["gateway"]), tag: "client"),
        Operation(method: "post", path: "/invoices/{id}/apply-credit", summary: "Pay (part of) an invoice from the credit balance (Idempotency-Key required)", access: .account, idempotencyKey: true, body: object(["amount": minor]), tag: "client"),
        Operation(method: "get", path: "/checkouts/{id}", summary: "A card checkout's status", access: .account, tag: "client"),
        Operation(method: "get", path: "/payments", summary: "The client's payments and refunds", access: .account, tag: "client"),
        Operation(method: "get", path: "/payments/{id}", summary: "One of the client's payments", access: .account, tag: "client"),
        Operation(method: "get", path: "/credit", summary: "Credit balance and ledger", access: .account, tag: "client"),
        Operation(method: "get", path: "/billing-profile", summary: "The client's billing details", access: .account, tag: "client"),
        Operation(method: "put", path: "/billing-profile", summary: "Set country (ISO 3166-1 alpha-2; ZZ and other unassigned codes are 400 naming country) and region (tax follows), and who invoices are made out to: legal_name, address, tax_id (copied onto each invoice when issued)", access: .account, body: object(["country": string, "region": string, "legal_name": string, "address": string, "tax_id": string]), tag: "client"),
        Operation(method: "get", path: "/me/payment-methods", summary: "The client's saved cards (stripe gateway): brand, last4, expiry, is_default; the default one is charged by the automatic capture (limit ≤ 200, default 50; offset)", access: .account, tag: "client"),
        Operation(method: "post", path: "/me/payment-methods/setup", summary: "Start saving a card: 201 with a SetupIntent's setup_intent and client_secret for Stripe's card element, and the publishable_key (Idempotency-Key required)", access: .account, idempotencyKey: true, tag: "client"),
        Operation(method: "post", path: "/me/payment-methods", summary: "Save the card of a SetupIntent the client confirmed with Stripe: 201 with the card (now the default); another client's SetupIntent is 404, one not confirmed 409", access: .account, body: object(["setup_intent": string], required: ["setup_intent"]), tag: "client"),
        Operation(method: "delete", path: "/me/payment-methods/{id}", summary: "Remove a saved card (detached at Stripe): 204; another client's card is 404", access: .account, tag: "client"),

        Operation(method: "post", path: "/gateways/testcard/webhook", summary: "Test card provider notification, signed with X-Signature: sha256=<hex HMAC-SHA256 of the raw body>; replays return the original answer", access: .signature, body: object(["type": ["type": "string", "enum": ["payment.succeeded", "payment.failed"]], "checkout_id": uuid, "transaction_id": string, "amount": minor, "currency": string], required: ["type", "checkout_id", "transaction_id", "amount", "currency"]), tag: "gateways"),
        Operation(method: "post", path: "/gateways/stripe/webhook", summary: "Stripe event (payment_intent.succeeded, payment_intent.payment_failed, charge.refunded, charge.dispute.created), signed with Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of t.body>; a missing, stale (over 300 s) or wrong signature is 400 and applies nothing; each event applies once", access: .signature, body: object(["id": string, "type": string, "data": ["type": "object"]], required: ["id", "type", "data"]), tag: "gateways"),

        Operation(method: "get", path: "/admin/clients", summary: "Clients (search=, sort=, dir=, limit=, offset=)", access: .staff, sort: ClientRepository.sortColumns, tag: "staff"),
        Operation(method: "get", path: "/admin/clients/{id}", summary: "A client with billing details and totals", access: .staff, tag: "staff"),
        Operation(method: "put", path: "/admin/clients/{id}/billing-profile", summary: "Set a client's country, region, tax exemption, legal name, address and VAT id", access: .staff, body: object(["country": string, "region": string, "tax_exempt": bool, "legal_name": string, "address": string, "tax_id": string]), tag: "staff"),
        Operation(method: "post", path: "/admin/clients/{id}/credit", summary: "Add (or, negative, remove) credit (Idempotency-Key required)", access: .staff, idempotencyKey: true, body: object(["amount": minor, "description": string], required: ["amount", "description"]), tag: "staff"),
        Operation(method: "get", path: "/admin/product-groups", summary: "Product groups", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/product-groups", summary: "Create a product group", access: .staff, body: object(["name": string, "description": string, "hidden": bool, "sort_order": ["type": "integer"]], required: ["name"]), tag: "staff"),
        Operation(method: "patch", path: "/admin/product-groups/{id}", summary: "Change a product group", access: .staff, body: object(["name": string, "description": string, "hidden": bool, "sort_order": ["type": "integer"]]), tag: "staff"),
        Operation(method: "get", path: "/admin/products", summary: "Products (state=on_sale|hidden|retired, sort=, dir=, limit=, offset=)", access: .staff, sort: CatalogueRepository.sortColumns, tag: "staff"),
        Operation(method: "post", path: "/admin/products", summary: "Create a product with prices, setup fees and configurable options", access: .staff, body: product, tag: "staff"),
        Operation(method: "get", path: "/admin/products/{id}", summary: "One product", access: .staff, tag: "staff"),
        Operation(method: "put", path: "/admin/products/{id}", summary: "Change a product's fields and prices (hide, retire, stock)", access: .staff, body: product, tag: "staff"),
        Operation(method: "get", path: "/admin/orders", summary: "Orders (status=, sort=, dir=, limit=, offset=)", access: .staff, sort: OrderRepository.sortColumns, tag: "staff"),
        Operation(method: "get", path: "/admin/orders/{id}", summary: "One order", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/orders/{id}/accept", summary: "Accept a pending order (creates its services)", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/orders/{id}/cancel", summary: "Cancel a pending order (cancels its unpaid invoice)", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/orders/{id}/fraud", summary: "Refuse a pending order as fraud", access: .staff, tag: "staff"),
        Operation(method: "get", path: "/admin/services", summary: "Services (client_id=, sort=, dir=, limit=, offset=)", access: .staff, sort: ServiceRepository.sortColumns, tag: "staff"),
        Operation(method: "get", path: "/admin/services/{id}", summary: "One service", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/services/{id}/{action}", summary: "Lifecycle: action is activate, suspend, unsuspend, terminate or cancel", access: .staff, tag: "staff"),
        Operation(method: "get", path: "/admin/invoices", summary: "Invoices (client_id=, status=, sort=, dir=, limit=, offset=)", access: .staff, sort: InvoiceRepository.sortColumns, tag: "staff"),
        Operation(method: "post", path: "/admin/invoices", summary: "Create a draft invoice for a client", access: .staff, body: object(["client_id": uuid, "due_date": ["type": "string", "format": "date"], "lines": lines], required: ["client_id", "lines"]), tag: "staff"),
        Operation(method: "get", path: "/admin/invoices/{id}", summary: "One invoice", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/invoices/{id}/lines", summary: "Add lines to a draft", access: .staff, body: object(["lines": lines], required: ["lines"]), tag: "staff"),
        Operation(method: "post", path: "/admin/invoices/{id}/issue", summary: "Issue a draft (gives it the next number)", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/invoices/{id}/cancel", summary: "Cancel a draft or unpaid invoice with nothing paid; a renewal invoice's period is billed again by the next billing run", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/invoices/{id}/collections", summary: "Send an unpaid invoice to collections", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/invoices/{id}/payments", summary: "Record a payment (bank transfer); transaction_id is unique per gateway (Idempotency-Key required)", access: .staff, idempotencyKey: true, body: object(["amount": minor, "gateway": string, "transaction_id": string, "note": string], required: ["amount"]), tag: "staff"),
        Operation(method: "get", path: "/admin/payments", summary: "Payments and refunds (client_id=, sort=, dir=, limit=, offset=)", access: .staff, sort: PaymentRepository.sortColumns, tag: "staff"),
        Operation(method: "post", path: "/admin/payments/{id}/refund", summary: "Refund (part of) a payment, to the gateway or as credit (Idempotency-Key required)", access: .staff, idempotencyKey: true, body: object(["amount": minor, "to_credit": bool]), tag: "staff"),
        Operation(method: "get", path: "/admin/api-tokens", summary: "The caller's own API tokens, with scopes and expiry (api.tokens; state=active|revoked|expired, sort=, dir=, limit=, offset=)", access: .staff, sort: APITokenRepository.sortColumns, tag: "staff"),
        Operation(method: "post", path: "/admin/api-tokens", summary: "Create an API token (shown once; api.tokens). scopes: a subset of the caller's permissions (default: all of them); expires_in: a duration such as 30d. A token making a token gets no more scopes and no longer life than itself", access: .staff, body: object(["name": string, "scopes": ["type": "array", "items": string], "expires_in": string], required: ["name"]), tag: "staff"),
        Operation(method: "delete", path: "/admin/api-tokens/{id}", summary: "Revoke one of the caller's API tokens (another's is 404)", access: .staff, tag: "staff"),
        Operation(method: "post", path: "/admin/billing/run", summary: "Run recurring billing now (task: all, renewals, credit, late_fees, reminders, suspensions, unsuspensions)", access: .staff, body: object(["task": string]), tag: "staff"),

        Operation(method: "get", path: "/admin/jobs", summary: "Scheduled jobs: schedule, catch-up policy, last run (node, duration, outcome) and next slot (state=failing|running|ok|never, sort=, dir=, limit=, offset=)", access: .staff, sort: JobStore.sortColumns, tag: "jobs"),
        Operation(method: "get", path: "/admin/jobs/{name}/runs", summary: "A job's recent runs, newest first (?limit=1-1000, default 50)", access: .staff, tag: "jobs"),
        Operation(method: "post", path: "/admin/jobs/{name}/run", summary: "Queue a manual run (202 with its slot key); exactly one node runs it", access: .staff, tag: "jobs"),

        Operation(method: "get", path: "/support/departments", summary: "Departments a ticket may be opened in (clients: the public ones)", access: .account, tag: "support"),
        Operation(method: "post", path: "/tickets/attachments", summary: "Upload an attachment first: the raw bytes as the body, Content-Length and X-Upload-Filename (percent-encoded); 201 {id, filename, size, sha256, content_type}; 413 above support.attachment_max_size, 415 for a type not allowed or content not matching its extension, 503 when storage is down (nothing stored); unused uploads expire after support.upload_lifetime", access: .account, tag: "support"),
        Operation(method: "post", path: "/tickets", summary: "Open a ticket (201 {id, number, status})", access: .account, body: object(["department_id": uuid, "subject": string, "message": string, "priority": ["type": "string", "enum": ["low", "medium", "high", "urgent"]], "service_id": uuid, "attachments": ["type": "array", "items": uuid, "description": "ids of the caller's unused uploads (POST /tickets/attachments)"]], required: ["department_id", "subject", "message"]), tag: "support"),
        Operation(method: "get", path: "/tickets", summary: "The client's tickets, oldest waiting first (limit ≤ 200, default 50; offset)", access: .account, tag: "support"),
        Operation(method: "get", path: "/tickets/{id}", summary: "A ticket with messages[], each with attachments[] of {id, filename, size, sha256}; internal notes never reach clients", access: .account, tag: "support"),
        Operation(method: "post", path: "/tickets/{id}/replies", summary: "Reply (the status becomes customer_reply; a closed ticket reopens)", access: .account, body: object(["message": string, "attachments": ["type": "array", "items": uuid, "description": "ids of the caller's unused uploads (POST /tickets/attachments)"]], required: ["message"]), tag: "support"),
        Operation(method: "post", path: "/tickets/{id}/close", summary: "Close the ticket (409 if closed)", access: .account, tag: "support"),
        Operation(method: "get", path: "/tickets/{id}/attachments/{attachment_id}/content", summary: "An attachment's bytes (Content-Disposition: attachment; Range: bytes=a-b gives 206); ?redirect=1 answers 303 to a 5-minute link (presigned on S3)", access: .account, tag: "support"),
        Operation(method: "post", path: "/admin/support/departments", summary: "Create a department (201 {id, name, email, public}); 409 if another has the address", access: .staff, body: object(["name": string, "email": string, "public": bool], required: ["name", "email"]), tag: "support"),
        Operation(method: "get", path: "/admin/support/departments", summary: "Every department", access: .staff, tag: "support"),
        Operation(method: "get", path: "/admin/support/canned-replies", summary: "Canned replies", access: .staff, tag: "support"),
        Operation(method: "post", path: "/admin/support/canned-replies", summary: "Add a canned reply", access: .staff, body: object(["title": string, "body": string], required: ["title", "body"]), tag: "support"),
        Operation(method: "delete", path: "/admin/support/canned-replies/{id}", summary: "Delete a canned reply", access: .staff, tag: "support"),
        Operation(method: "get", path: "/admin/tickets", summary: "The ticket queue, oldest waiting first (department_id, status — one or several, comma-separated —, assignee_id; sort, dir; limit, offset)", access: .staff, sort: TicketRepository.sortColumns, tag: "support"),
        Operation(method: "get", path: "/admin/tickets/{id}", summary: "A ticket with every message, internal notes included", access: .staff, tag: "support"),
        Operation(method: "post", path: "/admin/tickets/{id}/replies", summary: "A staff reply (status answered, mails the client) or, with internal: true, a staff-only note", access: .staff, body: object(["message": string, "internal": bool, "attachments": ["type": "array", "items": uuid, "description": "ids of the caller's unused uploads (POST /tickets/attachments)"]], required: ["message"]), tag: "support"),
        Operation(method: "put", path: "/admin/tickets/{id}", summary: "Change status, assignee (a staff member; unassign: true clears it), department or priority", access: .staff, body: object(["status": string, "assignee_id": uuid, "department_id": uuid, "priority": string, "unassign": bool]), tag: "support"),
        Operation(method: "get", path: "/admin/tickets/{id}/attachments/{attachment_id}/content", summary: "Any attachment of the ticket, notes' included", access: .staff, tag: "support"),

        Operation(method: "get", path: "/admin/mail/outbox", summary: "The e-mail outbox, newest first, with counts per state (state=pending|sending|sent|failed, sort, dir, limit, offset)", access: .staff, sort: MailOutboxRepository.sortColumns, tag: "mail"),
        Operation(method: "post", path: "/admin/mail/outbox/{id}/retry", summary: "Queue a failed message again (same Message-ID); 409 unless it failed", access: .staff, tag: "mail"),
        Operation(method: "get", path: "/admin/mail/templates", summary: "Every mail template with its values, and whether staff changed it", access: .staff, tag: "mail"),
        Operation(method: "get", path: "/admin/mail/templates/{key}", summary: "One mail template (key: invoice_issued, payment_received, ...)", access: .staff, tag: "mail"),
        Operation(method: "put", path: "/admin/mail/templates/{key}", summary: "Override a template (Mustache; 400 names the part that does not compile)", access: .staff, body: object(["subject": string, "text_body": string, "html_body": string], required: ["subject", "text_body", "html_body"]), tag: "mail"),
        Operation(method: "delete", path: "/admin/mail/templates/{key}", summary: "Drop the override: the default template applies again", access: .staff, tag: "mail"),
    ] + accountOperations + auditOperations + contentOperations + documentOperations + staffOperations + clientUserOperations }

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
