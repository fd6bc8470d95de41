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
                try await cluster.eventually("two backends have exited") {
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
                try await cluster.eventually("the survivor serves") {
                    (try? await cluster.request(port: balancer.proxyPort, "/").status) == 200
                }
            }
        }
    }
}
