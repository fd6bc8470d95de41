import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SteadfastTestSupport
import Testing

@testable import SteadfastBalancer

extension LiveTests {
    /// Live tests of the hardening points: framing that `Connection` cannot change, `Host`
    /// checks, query-of-death containment and the admin API's access rules.
    @Suite("hardening")
    struct HardeningTests {
        /// Sends `request` on a fresh connection and returns everything until the balancer closes it.
        static func exchange(_ port: Int, _ request: String) async throws -> String {
            let connection = try RawHTTPConnection(port: port)
            await connection.send(request)
            return await connection.readUntilClosed()
        }

        @Test func connectionNeverChangesTheFramingAndHostIsChecked() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a], extra: DataPlaneTests.limits))
                let port = balancer.proxyPort
                // The body is a complete request: were Content-Length dropped and the bytes
                // forwarded anyway, the backend would read it as a second, smuggled request.
                let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
                for connection in ["content-length", "keep-alive, Content-Length", "Transfer-Encoding"] {
                    let reply = try await Self.exchange(
                        port,
                        "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: \(connection)\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)"
                    )
                    #expect(reply.hasPrefix("HTTP/1.1 400"), "Connection: \(connection) → \(reply.prefix(60))")
                }
                let hostNamed = try await Self.exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: host\r\n\r\n")
                #expect(hostNamed.hasPrefix("HTTP/1.1 400"))
                let noHost = try await Self.exchange(port, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")
                #expect(noHost.hasPrefix("HTTP/1.1 400"), "\(noHost.prefix(60))")
                let twoHosts = try await Self.exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nHost: evil\r\n\r\n")
                #expect(twoHosts.hasPrefix("HTTP/1.1 400"), "\(twoHosts.prefix(60))")
                let http10 = try await Self.exchange(port, "GET / HTTP/1.0\r\n\r\n")
                #expect(http10.hasPrefix("HTTP/1.0 200"), "HTTP/1.0 needs no Host: \(http10.prefix(60))")

                // Not one of the refused requests reached the backend (only the HTTP/1.0 one did).
                let stats = try await cluster.request(port: a.port, "/_stats")
                #expect(stats.body.contains("\"requests\": 1"), "\(stats.body)")

                // Response direction: a backend response whose Connection names its
                // Content-Length would reach the client without framing; it is a broken exchange.
                let misframed = try await cluster.request(port: port, "/connection-names-length")
                #expect(misframed.status == 502)
                let after = try await cluster.request(port: port, "/")
                #expect(after.status == 200 && after.body == "a")
            }
        }

        @Test func aQueryOfDeathKillsAtMostTwoBackends() async throws {
            try await LiveCluster.run { cluster in
                let backends = [try await cluster.startBackend("a"), try await cluster.startBackend("b"), try await cluster.startBackend("c")]
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config(backends, extra: "retries:\n  max_attempts: 3\n  min_per_second: 100\n")
                )
                for _ in 0..<3 {
                    #expect(try await cluster.request(port: balancer.proxyPort, "/").status == 200)
                }
                let reply = try await cluster.request(port: balancer.proxyPort, "/crash")
                #expect(reply.status == 502)
                // Both crashes happened before the 502 was sent; a third would have too.
                try await waitUntil("two backends have exited") {
                    backends.filter { !$0.process.isRunning }.count >= 2
                }
                let survivors = backends.filter { $0.process.isRunning }
                #expect(survivors.count == 1, "one request took down \(3 - survivors.count) backends")
                if let survivor = survivors.first {
                    let direct = try await cluster.request(port: survivor.port, "/_stats")
                    #expect(direct.status == 200)
                }
                let metrics = try await cluster.request(port: balancer.adminPort, "/metrics")
                #expect(metrics.body.contains("lb_requests_poisoned_total 1"), "\(metrics.body.prefix(600))")
                // The balancer goes on serving from the survivor.
                try await waitUntil("the survivor serves") {
                    (try? await cluster.request(port: balancer.proxyPort, "/").status) == 200
                }
            }
        }

        static let token = "test-admin-token-0123456789"

        @Test func theAdminAPINeedsTheTokenAndJSONAndClosesSlowClients() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config(
                        [a],
                        extra: "limits:\n  client_header_timeout: 1s\n  client_idle_timeout: 2s\n",
                        admin: "  token: \(Self.token)"
                    )
                )
                let admin = balancer.adminPort
                let bearer = ("authorization", "Bearer \(Self.token)")
                let json = ("content-type", "application/json")

                let anonymous = try await cluster.request(port: admin, "/servers")
                #expect(anonymous.status == 401)
                #expect(anonymous.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)
                #expect(!anonymous.body.contains("\"a\""), "a refused request learns nothing about the servers")
                let wrong = try await cluster.request(port: admin, "/metrics", headers: [("authorization", "Bearer \(Self.token.dropLast())x")])
                #expect(wrong.status == 401)
                let wrongScheme = try await cluster.request(port: admin, "/servers", headers: [("authorization", "Basic \(Self.token)")])
                #expect(wrongScheme.status == 401)
                let anonymousChange = try await cluster.request(
                    port: admin, "/servers/a", method: .POST, headers: [json], body: "{\"state\": \"maint\"}"
                )
                #expect(anonymousChange.status == 401)
                #expect(try await cluster.request(port: admin, "/healthz").status == 200, "liveness stays open")
                #expect(try await cluster.request(port: admin, "/servers", headers: [bearer]).status == 200)
                #expect(try await cluster.request(port: admin, "/metrics", headers: [("Authorization", "bearer \(Self.token)")]).status == 200)

                // A browser's no-cors fetch can only send text/plain, form or multipart bodies.
                for contentType in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                    let simple = try await cluster.request(
                        port: admin, "/servers/a", method: .POST, headers: [bearer, ("content-type", contentType)], body: "{\"state\": \"maint\"}"
                    )
                    #expect(simple.status == 415, "\(contentType)")
                }
                let untyped = try await cluster.request(port: admin, "/servers/a", method: .PUT, headers: [bearer], body: "{\"state\": \"maint\"}")
                #expect(untyped.status == 415)
                let status = try await cluster.request(port: admin, "/servers/a", headers: [bearer])
                #expect(status.body.contains("\"state\" : \"ready\""), "no refused request changed the state: \(status.body)")
                let drained = try await cluster.request(
                    port: admin, "/servers/a", method: .POST, headers: [bearer, ("content-type", "application/json; charset=utf-8")],
                    body: "{\"state\": \"drain\"}"
                )
                #expect(drained.status == 200 && drained.body.contains("\"state\" : \"drain\""), "\(drained.body)")

                // Slowloris on the admin port: a head that never ends gets 408 and a close.
                let started = ContinuousClock.now
                let slow = try RawHTTPConnection(port: admin)
                await slow.send("GET /servers HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                let slowReply = await slow.readUntilEnd()
                #expect(slowReply.text.hasPrefix("HTTP/1.1 408"), "\(slowReply.text.prefix(60))")
                #expect(slowReply.end != .timedOut, "the balancer closed the connection")
                // A connection that never sends anything is closed after the idle timeout.
                let idle = try RawHTTPConnection(port: admin)
                let idleReply = await idle.readUntilEnd()
                #expect(idleReply.text.isEmpty)
                #expect(idleReply.end != .timedOut, "the balancer closed the idle connection")
                #expect(ContinuousClock.now - started < .seconds(10), "closed by the balancer, not by the test's 15 s receive timeout")
            }
        }

        @Test func withoutATokenTheAdminAPIStillRefusesBrowsersAndNamedHosts() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a]))
                let admin = balancer.adminPort
                let simple = try await cluster.request(port: admin, "/servers/a", method: .POST, headers: [("content-type", "text/plain")], body: "{\"state\": \"maint\"}")
                #expect(simple.status == 415)
                // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
                let body = "{\"state\":\"maint\"}"
                let rebound = try await Self.exchange(
                    admin,
                    "POST /servers/a HTTP/1.1\r\nHost: evil.example:\(admin)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                )
                #expect(rebound.hasPrefix("HTTP/1.1 403"), "\(rebound.prefix(60))")
                #expect(try await cluster.servers(balancer)["a"]?.state == .ready)
                let local = try await Self.exchange(admin, "GET /healthz HTTP/1.1\r\nHost: localhost:\(admin)\r\nConnection: close\r\n\r\n")
                #expect(local.hasPrefix("HTTP/1.1 200"))
            }
        }
    }
}
