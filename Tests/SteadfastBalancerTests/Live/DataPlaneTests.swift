import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SteadfastTestSupport
import Testing

@testable import SteadfastBalancer

extension LiveTests {
    /// Live tests of the data plane: limits, malformed requests, streaming, headers, TLS, timeouts,
    /// retries on refused connections and graceful stop — all through real processes.
    @Suite("data plane")
    struct DataPlaneTests {
        static let limits = """
            limits:
              max_header_bytes: 8192
              max_body_bytes: 1048576
              client_header_timeout: 1s
              backend_timeout: 1s

            """

        @Test func malformedRequestsGetA4xxOrACloseAndOtherClientsAreUnaffected() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a, b], extra: Self.limits))
                let port = balancer.proxyPort
                let load = LoadGenerator.start(client: cluster.http) { n in
                    (HTTPClientRequest(url: "http://127.0.0.1:\(port)/"), "get-\(n)")
                }
                try await load.waitForMore(100)

                func exchange(_ request: String) async throws -> String {
                    let connection = try RawHTTPConnection(port: port)
                    await connection.send(request)
                    return await connection.readUntilClosed()
                }
                #expect(try await exchange("GARBAGE\r\n\r\n").hasPrefix("HTTP/1.1 400"))
                #expect(try await exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n").hasPrefix("HTTP/1.1 431"))
                #expect(try await exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").hasPrefix("HTTP/1.1 400"))
                #expect(try await exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").hasPrefix("HTTP/1.1 400"))
                #expect(try await exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n").hasPrefix("HTTP/1.1 400"))
                #expect(try await exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n-3\r\nabc\r\n0\r\n\r\n").hasPrefix("HTTP/1.1 400"))
                #expect(try await exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n").hasPrefix("HTTP/1.1 413"))

                // A chunked body that outgrows max_body_bytes while streaming.
                let big = try RawHTTPConnection(port: port)
                await big.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                let chunk = "10000\r\n" + String(repeating: "z", count: 0x10000) + "\r\n"
                for _ in 0..<20 where await big.send(chunk) {}
                // The balancer answers 413 and closes; the close may be a reset that loses the
                // 413 on its way (we were still sending), so an empty reply counts only when the
                // connection was closed or reset — silence until the read times out does not.
                let (bigReply, bigEnd) = await big.readUntilEnd()
                #expect(bigReply.isEmpty || bigReply.hasPrefix("HTTP/1.1 413"), "\(bigReply.prefix(40))")
                #expect(bigEnd == .closed || bigEnd == .reset, "the oversized body's connection ended by \(bigEnd) after \(bigReply.prefix(40))")

                // Slowloris: a head trickling in gets 408 after client_header_timeout, then a close.
                let slow = try RawHTTPConnection(port: port)
                await slow.send("GET / HTTP/1.1\r\nHost: x\r\n")
                var stillOpen = true
                for _ in 0..<50 where stillOpen {
                    // Real time is the behaviour under test: a client trickling its head in, which
                    // the balancer (another process, on its own clock) must cut off.
                    try await Task.sleep(for: .milliseconds(200))
                    stillOpen = await slow.send("X-Drip: 1\r\n")
                }
                let (slowReply, slowEnd) = await slow.readUntilEnd()
                #expect(slowReply.isEmpty || slowReply.hasPrefix("HTTP/1.1 408"), "\(slowReply.prefix(40))")
                #expect(!stillOpen || slowReply.hasPrefix("HTTP/1.1 408"), "the slow client was cut off")
                // 408 or not, the connection must end in a close, not in silence.
                #expect(slowEnd == .closed || slowEnd == .reset, "the slow client's connection ended by \(slowEnd) after \(slowReply.prefix(40))")

                // A well-formed request on a fresh connection still works, and so did everyone else.
                #expect(try await exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").hasPrefix("HTTP/1.1 200"))
                try await load.waitForMore(100)
                let outcomes = await load.stop()
                let failures = outcomes.filter { !$0.succeeded }
                #expect(failures.isEmpty, "failed requests: \(failures.prefix(5))")
                #expect(balancer.process.isRunning)
            }
        }

        @Test func bodiesStreamBothWaysAndKeepAliveCarriesOn() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a], extra: "limits:\n  max_body_bytes: 16777216\n"))
                let big = try await cluster.request(port: balancer.proxyPort, "/big?bytes=30000000")
                #expect(big.status == 200)
                #expect(big.body.utf8.count == 30_000_000)
                let payload = String(repeating: "0123456789abcdef", count: 4 << 16)
                let echo = try await cluster.request(port: balancer.proxyPort, "/echo", method: .POST, body: payload)
                #expect(echo.status == 200)
                #expect(echo.body == payload)

                // Pipelined requests on one connection are answered in order.
                let connection = try RawHTTPConnection(port: balancer.proxyPort)
                await connection.send("GET /status?code=201 HTTP/1.1\r\nHost: x\r\n\r\nGET /status?code=202 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let replies = await connection.readUntilClosed()
                let statuses = replies.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
                #expect(statuses == ["201", "202", "200"])
            }
        }

        /// A backend's chunked response (no Content-Length) arrives whole and in order, re-framed
        /// for the client, and the connections on both sides stay usable afterwards; so does a
        /// body the backend ends by closing.
        @Test func chunkedAndCloseDelimitedBackendResponsesAreForwardedWhole() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a]))
                let expected = (0..<300).map { String(repeating: String(UnicodeScalar(UInt8(ascii: "a") + UInt8($0 % 26))), count: 1000) }.joined()
                for _ in 0..<3 {
                    let reply = try await cluster.request(port: balancer.proxyPort, "/chunked?parts=300&size=1000")
                    #expect(reply.status == 200 && reply.backend == "a")
                    #expect(reply.body == expected)
                }

                // On one keep-alive connection: a chunked response, then another request.
                let connection = try RawHTTPConnection(port: balancer.proxyPort)
                await connection.send("GET /chunked?parts=3&size=5 HTTP/1.1\r\nHost: x\r\n\r\nGET /status?code=202 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let replies = await connection.readUntilClosed()
                let parts = replies.components(separatedBy: "HTTP/1.1 ")
                #expect(parts.count == 3, "two responses: \(replies)")
                #expect(parts.dropFirst().first?.lowercased().contains("transfer-encoding: chunked") == true)
                #expect(parts.dropFirst().first?.contains("5\r\naaaaa\r\n") == true && parts.dropFirst().first?.contains("5\r\nccccc\r\n0\r\n\r\n") == true, "\(replies)")
                #expect(parts.last?.hasPrefix("202") == true)

                // An HTTP/1.0 client cannot take chunks: it gets the same bytes, unchunked.
                let old = try RawHTTPConnection(port: balancer.proxyPort)
                await old.send("GET /chunked?parts=3&size=5 HTTP/1.0\r\nHost: x\r\n\r\n")
                let reply = await old.readUntilClosed()
                #expect(reply.hasPrefix("HTTP/1.") && reply.hasSuffix("\r\n\r\naaaaabbbbbccccc"), "\(reply)")
                #expect(!reply.lowercased().contains("transfer-encoding"))

                // A body the backend ends by closing its connection arrives whole; the client
                // connection is not left hanging, and the balancer opens a new backend connection
                // for the next request.
                for _ in 0..<3 {
                    let untilClose = try await cluster.request(port: balancer.proxyPort, "/until-close?bytes=200000")
                    #expect(untilClose.status == 200 && untilClose.backend == "a")
                    #expect(untilClose.body == String(repeating: "z", count: 200_000))
                }
                let after = try await cluster.request(port: balancer.proxyPort, "/")
                #expect(after.status == 200 && after.body == "a")
            }
        }

        @Test func forwardedHeadersAreAddedAndHopByHopOnesRemoved() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a]))
                let reply = try await cluster.request(
                    port: balancer.proxyPort,
                    "/headers",
                    headers: [("connection", "keep-alive, x-private"), ("x-private", "secret"), ("x-request-id", "trace-1"), ("keep-alive", "timeout=5")]
                )
                let received = reply.body
                #expect(received.contains("x-forwarded-for: 127.0.0.1\n"))
                #expect(received.contains("x-forwarded-proto: http\n"))
                #expect(received.contains("x-forwarded-host: 127.0.0.1:\(balancer.proxyPort)\n"))
                #expect(received.contains("x-request-id: trace-1\n"))
                #expect(!received.contains("x-private"))
                #expect(!received.contains("keep-alive"))
                let generated = try await cluster.request(port: balancer.proxyPort, "/headers")
                #expect(generated.body.contains("x-request-id: "))
            }
        }

        @Test func tlsIsTerminated() async throws {
            try await LiveCluster.run { cluster in
                let directory = cluster.processes.directory.path
                let openssl = try cluster.processes.start(
                    "/usr/bin/openssl",
                    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem",
                     "-days", "1", "-subj", "/CN=localhost"],
                    name: "openssl"
                )
                #expect(await openssl.waitForExit() == 0)
                let a = try await cluster.startBackend("a")
                var yaml = LiveCluster.config([a])
                yaml = yaml.replacingOccurrences(
                    of: "  - address: 127.0.0.1:0\nadmin",
                    with: "  - address: 127.0.0.1:0\n    tls:\n      certificate: \(directory)/cert.pem\n      private_key: \(directory)/key.pem\nadmin"
                )
                let balancer = try await cluster.startBalancer(yaml: yaml)
                var configuration = HTTPClient.Configuration()
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.certificateVerification = .none
                configuration.tlsConfiguration = tls
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                do {
                    let response = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(balancer.proxyPort)/headers"), timeout: .seconds(20))
                    let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    #expect(response.status == .ok)
                    #expect(body.contains("x-forwarded-proto: https\n"))
                } catch {
                    Issue.record("TLS request failed: \(error)")
                }
                try await client.shutdown()
            }
        }

        @Test func aSilentBackendGets504AndRefusedConnectionsAreRetried() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                // "dead" listens nowhere: every connection to it is refused.
                let dead = TestBackendProcess(name: "dead", port: FreePort.make(), process: a.process, postLog: "")
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config([dead, a], extra: Self.limits + "passive:\n  consecutive_failures: 0\n", healthInterval: "1h")
                )
                let timedOut = try await cluster.request(port: balancer.proxyPort, "/slow?ms=3000")
                #expect(timedOut.status == 504)
                for n in 0..<10 {
                    let get = try await cluster.request(port: balancer.proxyPort, "/")
                    #expect(get.status == 200 && get.backend == "a")
                    let post = try await cluster.request(port: balancer.proxyPort, "/orders", method: .POST, headers: [("x-test-id", "p\(n)")], body: "x")
                    #expect(post.status == 200 && post.backend == "a", "a refused connection never reached a backend, so even a POST is retried")
                }
                let servers = try await cluster.servers(balancer)
                #expect((servers["dead"]?.failures ?? 0) > 0)
            }
        }

        @Test func sigtermLetsInFlightRequestsFinish() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a]))
                let port = balancer.proxyPort
                let inFlight = (0..<3).map { _ in Task { try await cluster.request(port: port, "/slow?ms=1500") } }
                try await waitUntil("requests are in flight") {
                    try await cluster.servers(balancer)["a"]?.activeRequests == 3
                }
                balancer.process.send(SIGTERM)
                for request in inFlight {
                    let reply = try await request.value
                    #expect(reply.status == 200)
                }
                #expect(await balancer.process.waitForExit() == 0)
                #expect(throws: (any Error).self) { try RawHTTPConnection(port: port) }
            }
        }

        @Test func theAdminAPIServesMetricsAndRejectsBadChanges() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a]))
                _ = try await cluster.request(port: balancer.proxyPort, "/")
                let metrics = try await cluster.request(port: balancer.adminPort, "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains("lb_requests_total 1"))
                #expect(metrics.body.contains("lb_server_selected_total{server=\"a\"} 1"))
                let weighted = try await cluster.setServer(balancer, "a", weight: 7)
                #expect(weighted.weight == 7)
                let json = [("content-type", "application/json")]
                let bad = try await cluster.request(port: balancer.adminPort, "/servers/a", method: .POST, headers: json, body: "{\"state\": \"sleepy\"}")
                #expect(bad.status == 400)
                let unknown = try await cluster.request(port: balancer.adminPort, "/servers/nope", method: .POST, headers: json, body: "{\"state\": \"drain\"}")
                #expect(unknown.status == 404)
            }
        }

        @Test func aBadConfigurationFileIsRefusedNamingTheKey() async throws {
            try await LiveCluster.run { cluster in
                let path = try cluster.writeConfig("listeners:\n  - address: 127.0.0.1:0\nservers:\n  - address: 127.0.0.1:1\n    wieght: 3\n")
                let process = try cluster.processes.start("steadfast", ["balance", "--config", path], name: "bad-config")
                #expect(await process.waitForExit() == 2)
                #expect(process.standardError.contains("servers[0].wieght"))
            }
        }
    }
}
