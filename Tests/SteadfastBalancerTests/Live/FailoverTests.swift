import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SteadfastTestSupport
import Testing

@testable import SteadfastBalancer

extension LiveTests {
    /// Live tests with real processes: backends killed, drained, restarted under load.
    @Suite("failover")
    struct FailoverTests {
        static func getRequest(port: Int, path: String = "/") -> @Sendable (Int) -> (HTTPClientRequest, String) {
            { n in (HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), "get-\(n)") }
        }

        @Test func killingOneOfThreeBackendsUnderGETLoadFailsNoRequest() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                let c = try await cluster.startBackend("c")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a, b, c]))
                let load = LoadGenerator.start(client: cluster.http, makeRequest: Self.getRequest(port: balancer.proxyPort))
                try await load.waitForMore(300)
                #expect(load.count(from: "b") > 0)
                b.process.send(SIGKILL)
                try await load.waitForMore(1500)
                let servedByBBeforeEnd = load.count(from: "b")
                try await load.waitForMore(300)
                let outcomes = await load.stop()

                let failures = outcomes.filter { !$0.succeeded }
                #expect(failures.isEmpty, "failed requests: \(failures.prefix(5))")
                #expect(load.count(from: "b") == servedByBBeforeEnd, "the dead server stopped receiving traffic")
                #expect(load.count(from: "a") > 300 && load.count(from: "c") > 300)
                let servers = try await cluster.servers(balancer)
                #expect(servers["b"]?.usable == false)
            }
        }

        @Test func killingABackendUnderPOSTLoadNeverDeliversAPOSTTwice() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                let c = try await cluster.startBackend("c")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a, b, c]))
                let port = balancer.proxyPort
                let load = LoadGenerator.start(client: cluster.http) { n in
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/orders")
                    request.method = .POST
                    let id = "post-\(n)"
                    request.headers.add(name: "x-test-id", value: id)
                    request.body = .bytes(ByteBuffer(string: "order \(n)"))
                    return (request, id)
                }
                try await load.waitForMore(300)
                b.process.send(SIGKILL)
                try await load.waitForMore(1500)
                let outcomes = await load.stop()

                var delivered: [String: Int] = [:]
                for backend in [a, b, c] {
                    let log = (try? String(contentsOfFile: backend.postLog, encoding: .utf8)) ?? ""
                    for id in log.split(separator: "\n") { delivered[String(id), default: 0] += 1 }
                }
                let duplicates = delivered.filter { $0.value > 1 }
                #expect(duplicates.isEmpty, "POSTs delivered twice: \(duplicates.keys.prefix(5))")
                for outcome in outcomes {
                    switch outcome {
                    case .response(200, _, let id):
                        #expect(delivered[id] == 1, "\(id) answered 200 but was delivered \(delivered[id] ?? 0) times")
                    case .response(let status, _, let id):
                        #expect(status == 502 || status == 503, "\(id) failed with \(status)")
                    case .transportError(let error, let id):
                        Issue.record("\(id) failed without a clear status: \(error)")
                    }
                }
                #expect(outcomes.filter(\.succeeded).count > 1500)
            }
        }

        @Test func drainMaintenanceAndReturnWithSlowStart() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                var b = try await cluster.startBackend("b")
                let c = try await cluster.startBackend("c")
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config([a, b, c], extra: "slow_start: 60s\nsticky:\n  enabled: true\n")
                )
                let load = LoadGenerator.start(client: cluster.http, makeRequest: Self.getRequest(port: balancer.proxyPort))
                try await load.waitForMore(200)

                // Requests pinned to b by the sticky cookie are in flight while b is drained.
                let port = balancer.proxyPort
                let slow = (0..<3).map { _ in
                    Task { try await cluster.request(port: port, "/slow?ms=1500", headers: [("cookie", "STEADFAST_SERVER=b")]) }
                }
                try await waitUntil("b has the slow requests in flight") {
                    try await cluster.servers(balancer)["b"]?.activeRequests ?? 0 >= 3
                }
                let drained = try await cluster.setServer(balancer, "b", state: .drain)
                try await load.waitForMore(500)
                let afterDrain = try await cluster.servers(balancer)["b"]
                #expect(afterDrain?.selected == drained.selected, "a drained server gets no new requests")
                for request in slow {
                    let reply = try await request.value
                    #expect(reply.status == 200 && reply.backend == "b", "in-flight requests on the drained server complete")
                }

                try await cluster.setServer(balancer, "b", state: .maint)
                try await waitUntil("b has nothing in flight") {
                    try await cluster.servers(balancer)["b"]?.activeRequests == 0
                }
                b.process.send(SIGTERM)
                _ = await b.process.waitForExit()
                try await load.waitForMore(500)
                let countWhileAway = load.count(from: "b")

                b = try await cluster.restart(b)
                try await waitUntil("b is healthy again") {
                    try await cluster.servers(balancer)["b"]?.health == "up"
                }
                let back = try await cluster.setServer(balancer, "b", state: .ready)
                let atReturn = try await cluster.servers(balancer)
                #expect(back.slowStart, "a server leaving maintenance ramps up slowly")
                #expect(back.effectiveWeight < Double(back.weight))
                try await waitUntil("traffic returns to b") { load.count(from: "b") > countWhileAway + 5 }
                try await load.waitForMore(600)
                let final = try await cluster.servers(balancer)
                let outcomes = await load.stop()
                let failures = outcomes.filter { !$0.succeeded }
                #expect(failures.isEmpty, "failed requests: \(failures.prefix(5))")
                // Like with like: what a and b were each given over the same span, from b's
                // return on. With equal weights and no slow start b would get about as much as
                // a. With a 60 s ramp from 5 %, b's weight over a span of T seconds averages under
                // 5 % + T / 120 s of a's: under half of a's share for any span shorter than about
                // 50 s, and these 600 requests take a second or two.
                let bShare = final["b"]!.selected - atReturn["b"]!.selected
                let aShare = final["a"]!.selected - atReturn["a"]!.selected
                print("slow start: since b's return a was given \(aShare) requests, b \(bShare)")
                #expect(aShare > 100, "a was given \(aShare) requests after b's return")
                #expect(Double(bShare) < Double(aShare) / 2, "slow start: since its return b was given \(bShare) requests, a \(aShare)")
            }
        }

        @Test func backupServesWhenAllPrimariesAreDownAndTrafficMovesBack() async throws {
            try await LiveCluster.run { cluster in
                var a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                let spare = try await cluster.startBackend("spare")
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config([(a, backup: false), (b, backup: false), (spare, backup: true)])
                )
                let load = LoadGenerator.start(client: cluster.http, makeRequest: Self.getRequest(port: balancer.proxyPort))
                try await load.waitForMore(300)
                #expect(load.count(from: "spare") == 0, "a backup gets nothing while primaries are up")
                a.process.send(SIGKILL)
                b.process.send(SIGKILL)
                try await load.waitForMore(300)
                let spareBefore = load.count(from: "spare")
                try await load.waitForMore(300)
                #expect(load.count(from: "spare") >= spareBefore + 300, "with every primary down, the backup serves everything")

                a = try await cluster.restart(a)
                try await waitUntil("a is usable again") { try await cluster.servers(balancer)["a"]?.usable == true }
                let spareSelected = try await cluster.servers(balancer)["spare"]!.selected
                try await load.waitForMore(300)
                #expect(try await cluster.servers(balancer)["spare"]!.selected == spareSelected, "traffic moved back to the primary")
                let outcomes = await load.stop()
                let failures = outcomes.filter { !$0.succeeded }
                // Both primaries die at one instant: a GET lost with one and retried on the other
                // just as that one died has lost two backends, which is exactly what a query of
                // death looks like. It gets 502 and is counted as poisoned rather than tried on a
                // third server (docs/balancer.md, Query-of-death containment); nothing else fails.
                let metrics = try await cluster.request(port: balancer.adminPort, "/metrics")
                let poisoned = metrics.body.split(separator: "\n").first { $0.hasPrefix("lb_requests_poisoned_total ") }
                    .flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
                #expect(
                    failures.allSatisfy { if case .response(502, _, _) = $0 { true } else { false } } && failures.count == poisoned,
                    "failed requests (\(poisoned) poisoned): \(failures.prefix(5))"
                )
            }
        }

        @Test func stickyCookiePinsAClientAndReStucksItWhenItsServerDies() async throws {
            try await LiveCluster.run { cluster in
                let backends = [try await cluster.startBackend("a"), try await cluster.startBackend("b"), try await cluster.startBackend("c")]
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config(backends, extra: "sticky:\n  enabled: true\n"))
                let first = try await cluster.request(port: balancer.proxyPort, "/")
                let setCookie = try #require(first.headers.first(name: "set-cookie"))
                #expect(setCookie.hasPrefix("STEADFAST_SERVER=\(first.backend!);"))
                let cookie = ("cookie", "STEADFAST_SERVER=\(first.backend!)")
                for _ in 0..<20 {
                    let reply = try await cluster.request(port: balancer.proxyPort, "/", headers: [cookie])
                    #expect(reply.backend == first.backend)
                    #expect(reply.headers.first(name: "set-cookie") == nil, "an honoured cookie is not set again")
                }
                let pinned = try #require(backends.first { $0.name == first.backend })
                pinned.process.send(SIGKILL)
                _ = await pinned.process.waitForExit()
                let moved = try await cluster.request(port: balancer.proxyPort, "/", headers: [cookie])
                #expect(moved.status == 200)
                #expect(moved.backend != first.backend)
                let newCookie = try #require(moved.headers.first(name: "set-cookie"))
                #expect(newCookie.hasPrefix("STEADFAST_SERVER=\(moved.backend!);"), "the client is stuck to its new server")
                for _ in 0..<10 {
                    let reply = try await cluster.request(port: balancer.proxyPort, "/", headers: [("cookie", "STEADFAST_SERVER=\(moved.backend!)")])
                    #expect(reply.status == 200 && reply.backend == moved.backend)
                }
            }
        }

        @Test func aReadyzAnswering503DrainsTheServer() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a, b]))
                let drain = try await cluster.request(port: b.port, "/_control/drain", method: .POST)
                #expect(drain.status == 200)
                try await waitUntil("the balancer sees b draining") {
                    try await cluster.servers(balancer)["b"]?.health == "draining"
                }
                let selected = try await cluster.servers(balancer)["b"]!.selected
                for _ in 0..<20 {
                    let reply = try await cluster.request(port: balancer.proxyPort, "/")
                    #expect(reply.status == 200 && reply.backend == "a")
                }
                #expect(try await cluster.servers(balancer)["b"]!.selected == selected)
                _ = try await cluster.request(port: b.port, "/_control/ready", method: .POST)
                try await waitUntil("b serves again") { try await cluster.servers(balancer)["b"]?.usable == true }
            }
        }

        @Test func sighupReloadUnderLoadFailsNoRequest() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                let c = try await cluster.startBackend("c")
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a, b]))
                let load = LoadGenerator.start(client: cluster.http, makeRequest: Self.getRequest(port: balancer.proxyPort))
                try await load.waitForMore(300)
                // New configuration: a removed, b re-weighted, c added.
                var servers = LiveCluster.config([b, c], extra: "balance: least_connections\n")
                servers = servers.replacingOccurrences(of: "name: b\n", with: "name: b\n    weight: 200\n")
                _ = try cluster.writeConfig(servers)
                balancer.process.send(SIGHUP)
                try await waitUntil("the new configuration is live") {
                    let list = try await cluster.servers(balancer)
                    return list["c"] != nil && list["a"] == nil && list["b"]?.weight == 200
                }
                try await load.waitForMore(300)
                let cBefore = load.count(from: "c")
                try await load.waitForMore(300)
                #expect(load.count(from: "c") > cBefore, "the added server takes traffic")
                // A broken file is rejected and the running configuration kept.
                _ = try cluster.writeConfig("servers: [")
                balancer.process.send(SIGHUP)
                try await load.waitForMore(300)
                let outcomes = await load.stop()
                let failures = outcomes.filter { !$0.succeeded }
                #expect(failures.isEmpty, "failed requests: \(failures.prefix(5))")
                #expect(balancer.process.isRunning)
                #expect(try await cluster.servers(balancer)["c"] != nil)
            }
        }
    }
}
