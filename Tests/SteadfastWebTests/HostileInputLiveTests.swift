import Foundation
import SteadfastTestSupport
import Testing

/// Requests an attacker would send to a default node: extreme numbers in every place a client
/// can put one. Each gets a clear 4xx (or a sound 2xx), never a 5xx, and the node stays up — a
/// request that killed a node would, behind the balancer's retries, kill one node per attempt.
@Suite(.serialized) struct HostileInputLiveTests {
    static let password = "correct horse battery"

    /// The `field` of a JSON error answer.
    static func field(_ response: HTTPTestClient.Response) -> String? {
        (response.json["error"] as? [String: Any])?["field"] as? String
    }

    @Test func extremeNumbersGetAClearAnswerAndTheNodeStaysUp() async throws {
        let node = try await SteadfastNode.start(name: "hostile", arguments: ["--admin-email", "staff@example.com", "--admin-password", Self.password])
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "eve@example.com", "password": Self.password, "name": "Eve"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": "eve@example.com", "password": Self.password]).status == 200)
        let uploaded = try await client.send("POST", "/api/v1/files", headers: ["Content-Type": "text/plain", "X-Upload-Filename": "a.txt"], body: Array("0123456789".utf8))
        let file = try #require(uploaded.json["id"] as? String)
        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": Self.password]).status == 200)

        let max = "9223372036854775807", min = "-9223372036854775808", over = "92233720368547758070"
        // (client, method, path, headers, expected status or nil for "any non-5xx")
        let ranges: [(String, Int?)] = [
            ("bytes=0-\(max)", 206), ("bytes=\(max)-\(max)", 416), ("bytes=\(max)-", 416), ("bytes=5-\(max)", 206),
            ("bytes=0-\(over)", 416), ("bytes=\(min)-0", 416), ("bytes=-\(max)", 416), ("bytes=9-8", 416), ("bytes=1-2,3-4", 416),
        ]
        for (range, status) in ranges {
            let answer = try await client.get("/api/v1/files/\(file)/content", headers: ["Range": range])
            #expect(answer.status == status, "Range: \(range) answered \(answer.status)")
        }
        let whole = try await client.get("/api/v1/files/\(file)/content", headers: ["Range": "bytes=3-\(max)"])
        #expect(whole.body == "3456789" && whole.header("Content-Range") == "bytes 3-9/10")

        let pages = ["/clientarea/invoices", "/api/v1/invoices", "/api/v1/orders", "/api/v1/services", "/api/v1/payments", "/api/v1/files"]
        for path in pages {
            for (query, status) in [("offset=\(max)", 400), ("offset=\(min)", 400), ("offset=\(over)", 400), ("limit=\(max)", 200), ("limit=0", 400), ("limit=x", 400), ("offset=1000000000&limit=200", 200)] {
                let answer = try await client.get("\(path)?\(query)")
                #expect(answer.status == status, "GET \(path)?\(query) answered \(answer.status)")
            }
        }
        for path in ["/api/v1/admin/clients", "/api/v1/admin/invoices", "/api/v1/admin/orders", "/api/v1/admin/payments", "/api/v1/admin/jobs/heartbeat/runs", "/admin/clients", "/admin/invoices"] {
            for query in ["offset=\(max)", "limit=\(max)", "offset=\(min)", "limit=\(min)"] {
                let answer = try await staff.get("\(path)?\(query)")
                #expect(answer.status < 500, "GET \(path)?\(query) answered \(answer.status)")
            }
        }

        // Staff-side numbers: amounts past the input ceiling (10^15 minor units) and counts past
        // PostgreSQL's INTEGER are 400s that name their field, never a 500 or a stored value
        // that breaks every later sum.
        let clientID = try #require(try await client.get("/api/v1/me").json["id"] as? String)
        let json = ["Content-Type": "application/json", "Idempotency-Key": UUID().uuidString]
        for amount in [Int64.max, 1_000_000_000_000_001, Int64.min + 1] {
            let credit = try await staff.postJSON("/api/v1/admin/clients/\(clientID)/credit", ["amount": amount, "description": "x"], headers: json)
            #expect(credit.status == 400 && Self.field(credit) == "amount", "credit \(amount) answered \(credit.status) \(credit.body)")
            let invoice = try await staff.postJSON("/api/v1/admin/invoices", ["client_id": clientID, "lines": [["description": "x", "amount": amount]]])
            #expect(invoice.status == 400 && Self.field(invoice) == "lines", "invoice line \(amount) answered \(invoice.status) \(invoice.body)")
        }
        for sortOrder in [Int64.max, 3_000_000_000] {
            let group = try await staff.postJSON("/api/v1/admin/product-groups", ["name": "G", "sort_order": sortOrder])
            #expect(group.status == 400 && Self.field(group) == "sort_order", "sort_order \(sortOrder) answered \(group.status) \(group.body)")
        }
        let group = try await staff.postJSON("/api/v1/admin/product-groups", ["name": "Hosting"])
        let groupID = try #require(group.json["id"] as? String)
        for (field, value) in [("stock_limit", Int64(3_000_000_000)), ("recurring", Int64.max)] {
            var product: [String: Any] = ["group_id": groupID, "name": "P", "pricing": [["cycle": "monthly", "recurring": field == "recurring" ? value : 100]]]
            if field == "stock_limit" { product["stock_limit"] = value }
            let answer = try await staff.postJSON("/api/v1/admin/products", product)
            #expect(answer.status == 400 && Self.field(answer) == (field == "recurring" ? "pricing" : field), "\(field)=\(value) answered \(answer.status) \(answer.body)")
        }
        #expect(try await staff.get("/api/v1/admin/clients").status == 200)

        #expect(node.process.isRunning, "the node died: \(node.process.stderr.suffix(2000))")
        #expect(try await client.get("/healthz").status == 200)
    }
}
