import Foundation
import SteadfastTestSupport
import Testing

/// Requests an attacker would send to a default node: extreme numbers in every place a client
/// can put one. Each gets a clear 4xx (or a sound 2xx), never a 5xx, and the node stays up — a
/// request that killed a node would, behind the balancer's retries, kill one node per attempt.
@Suite(.serialized) struct HostileInputLiveTests {
    static let password = "correct horse battery"

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

        #expect(node.process.isRunning, "the node died: \(node.process.stderr.suffix(2000))")
        #expect(try await client.get("/healthz").status == 200)
    }
}
