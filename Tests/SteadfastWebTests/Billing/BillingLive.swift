import Foundation
import SteadfastTestSupport
import Testing

/// Real `steadfast serve` nodes for billing tests: two on one PostgreSQL, or one on SQLite,
/// with a staff account, a known test card secret, German VAT and a product on sale.
struct BillingLive: Sendable {
    enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case postgres, sqlite
        var testDescription: String { rawValue }
    }

    static let password = "correct horse battery"
    static let staffEmail = "staff@example.com"
    static let webhookSecret = "live-test-webhook-secret"

    let nodes: [SteadfastNode]
    /// A staff session (valid on every node).
    let staff: HTTPTestClient
    let productID: String
    /// The PostgreSQL database the nodes share (`nil` on SQLite) and the nodes' common arguments,
    /// to start another node on the same database (``startAnotherNode(name:settings:)``).
    let database: String?
    let arguments: [String]

    /// `perNode[i]`: extra settings for node `i` only (e.g. `jobs.enabled=false` on one node).
    static func start(_ engine: Engine, name: String, settings: [String] = [], perNode: [[String]] = []) async throws -> BillingLive {
        var arguments = [
            "--admin-email", staffEmail, "--admin-password", password,
            "--set", "billing.testcard_secret=\(webhookSecret)", "--set", "billing.currency=EUR", "--set", "billing.tax_rules=DE=19:VAT",
            "--set", "billing.default_country=DE", "--set", "billing.gateways=banktransfer,testcard",
            // These tests are about exactly-once billing, not latency: on a starved machine a
            // statement may wait longer than the default 2 s, which would answer 503.
            "--set", "database.timeout=10s",
        ]
        for setting in settings { arguments += ["--set", setting] }
        var nodes: [SteadfastNode] = []
        var database: String?
        func own(_ i: Int) -> [String] { i < perNode.count ? perNode[i].flatMap { ["--set", $0] } : [] }
        switch engine {
        case .postgres:
            let server = try await PostgresServer.shared()
            let url = server.url(database: try await server.createDatabase(prefix: name))
            database = url
            nodes.append(try await SteadfastNode.start(name: "\(name)-a", database: url, arguments: arguments + own(0)))
            nodes.append(try await SteadfastNode.start(name: "\(name)-b", database: url, arguments: arguments + own(1)))
        case .sqlite:
            nodes.append(try await SteadfastNode.start(name: "\(name)-solo", arguments: arguments + own(0)))
        }
        let staff = nodes[0].client()
        let login = try await staff.postJSON("/api/v1/auth/login", ["email": staffEmail, "password": password])
        guard login.status == 200 else { throw HarnessError("staff log-in failed: \(login.status) \(login.body)") }
        let group = try await staff.postJSON("/api/v1/admin/product-groups", ["name": "Hosting"])
        let product = try await staff.postJSON("/api/v1/admin/products", [
            "group_id": group.json["id"] as? String ?? "", "name": "Web hosting",
            "pricing": [["cycle": "monthly", "recurring": 1000, "setup_fee": 500], ["cycle": "annually", "recurring": 10000]],
        ])
        guard product.status == 201, let productID = product.json["id"] as? String else {
            throw HarnessError("creating the product failed: \(product.status) \(product.body)")
        }
        return BillingLive(nodes: nodes, staff: staff, productID: productID, database: database, arguments: arguments)
    }

    /// One more node on the nodes' PostgreSQL database, with their settings plus `settings`
    /// (the caller kills it).
    func startAnotherNode(name: String, settings: [String] = []) async throws -> SteadfastNode {
        guard let database else { throw HarnessError("another node needs the shared PostgreSQL database") }
        return try await SteadfastNode.start(name: name, database: database, arguments: arguments + settings.flatMap { ["--set", $0] })
    }

    func stop() {
        for node in nodes { node.process.send(SIGKILL) }
    }

    /// The `i`-th node, round robin.
    func node(_ i: Int) -> SteadfastNode { nodes[i % nodes.count] }

    /// A new client, registered and logged in (on node 0; the session works on every node).
    func client(_ label: String = "client") async throws -> HTTPTestClient {
        let client = nodes[0].client()
        let email = "\(label)-\(UUID().uuidString.prefix(8))@example.com"
        let registered = try await client.postJSON("/api/v1/auth/register", ["email": email, "password": Self.password, "name": label])
        guard registered.status == 201 else { throw HarnessError("register failed: \(registered.body)") }
        let login = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": Self.password])
        guard login.status == 200 else { throw HarnessError("log-in failed: \(login.body)") }
        return client
    }

    /// Orders the product `count` times (one order) and returns (order id, invoice id). The
    /// checkout (one transaction for every item) and ``pay(_:invoice:timeout:)`` (which
    /// activates every service) take a `timeout`: a give-up bound a test ordering a hundred
    /// items raises, as a loaded machine can take longer than the default 30 s.
    func order(_ client: HTTPTestClient, count: Int = 1, cycle: String = "monthly", timeout: Duration = .seconds(30)) async throws -> (order: String, invoice: String) {
        for _ in 0..<count {
            let added = try await client.postJSON("/api/v1/cart/items", ["product_id": productID, "cycle": cycle])
            guard added.status == 201 else { throw HarnessError("add to cart failed: \(added.body)") }
        }
        let placed = try await client.postJSON("/api/v1/cart/checkout", [:], timeout: timeout)
        guard placed.status == 201, let order = placed.json["order_id"] as? String, let invoice = placed.json["invoice_id"] as? String else {
            throw HarnessError("checkout failed: \(placed.status) \(placed.body)")
        }
        return (order, invoice)
    }

    /// Pays an invoice by test card with a fresh key.
    func pay(_ client: HTTPTestClient, invoice: String, timeout: Duration = .seconds(30)) async throws {
        let paid = try await client.postJSON(
            "/api/v1/invoices/\(invoice)/pay", ["gateway": "testcard", "card_token": "tok_visa"], headers: ["Idempotency-Key": UUID().uuidString], timeout: timeout
        )
        guard paid.status == 200 else { throw HarnessError("pay failed: \(paid.status) \(paid.body)") }
    }

    /// Every item of a paged staff list, following offsets.
    func all(_ path: String) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        let separator = path.contains("?") ? "&" : "?"
        while true {
            let page = try await staff.get("\(path)\(separator)limit=200&offset=\(items.count)")
            guard page.status == 200 else { throw HarnessError("\(path): \(page.status) \(page.body)") }
            let batch = page.json["items"] as? [[String: Any]] ?? []
            items += batch
            if batch.count < 200 { return items }
        }
    }
}

extension HTTPTestClient.Response {
    /// The `error` object of a JSON error answer.
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
}
