import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SteadfastTestSupport
import Testing

@testable import SteadfastBalancer

#if canImport(Glibc)
import Glibc
#endif

extension LiveTests {
    /// Promises of docs/balancer.md that had no test: each test here fails when its promise is
    /// broken (each was seen failing with the promise broken in the source, see the commits).
    @Suite("documented promises")
    struct DocumentedPromisesTests {
        // MARK: Broken exchanges

        /// *Answers of the balancer itself*: "502 (backend broke the exchange)"; *Data plane*: "A
        /// backend response that breaks the same rules counts as a broken exchange (502 …)".
        @Test func aMalformedBackendResponseGivesTheClient502() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                // A short backend_timeout: were the broken response not noticed, the client would
                // get a 504 after it rather than wait for the HTTP client's own timeout.
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config([a], extra: "limits:\n  backend_timeout: 2s\n", healthInterval: "1h")
                )
                // The backend answers `HTTP/1.1 200 OK` with `Content-Length: abc`.
                let direct = try RawHTTPConnection(port: a.port)
                await direct.send("GET /garbage HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await direct.readResponse().contains("Content-Length: abc"), "the test backend sends the garbage")

                for _ in 0..<2 {
                    let reply = try await cluster.request(port: balancer.proxyPort, "/garbage")
                    #expect(reply.status == 502, "a malformed backend response: \(reply.status) \(reply.body.prefix(60))")
                    #expect(reply.body.hasPrefix("502"), "the balancer's own answer, not the backend's bytes: \(reply.body.prefix(60))")
                    #expect(reply.headers.first(name: "content-type")?.hasPrefix("text/plain") == true)
                }
                // The same backend still serves valid responses through the balancer.
                let after = try await cluster.request(port: balancer.proxyPort, "/")
                #expect(after.status == 200 && after.body == "a")
                #expect(a.process.isRunning && balancer.process.isRunning)
            }
        }

        // MARK: Passive health checks

        /// `passive.count_5xx`: "Whether 5xx answers count as failures for passive ejection";
        /// `passive.consecutive_failures`: "Consecutive failed attempts on live traffic (…, and 5xx
        /// if `count_5xx`) that eject a server until active checks pass `rise` times".
        @Test(arguments: [true, false])
        func count5xxDecidesWhetherABackendAnswering5xxIsEjected(count5xx: Bool) async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let b = try await cluster.startBackend("b")
                // Health checks every hour: after the first (passing) one at start, only live
                // traffic can change b's state, and an ejected b stays out for the whole test.
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config(
                        [a, b],
                        extra: "slow_start: 0\npassive:\n  consecutive_failures: 3\n  count_5xx: \(count5xx)\n",
                        healthInterval: "1h"
                    )
                )
                try await waitUntil("both servers are up") {
                    let servers = try await cluster.servers(balancer)
                    return servers["a"]?.health == "up" && servers["b"]?.health == "up"
                }
                // b's application is sick (every request answered 500) while its /readyz passes.
                let sick = try await cluster.request(port: b.port, "/_control/status?code=500", method: .POST)
                #expect(sick.status == 200)

                var fromB = 0
                for _ in 0..<20 {
                    let reply = try await cluster.request(port: balancer.proxyPort, "/")
                    if reply.backend == "b" {
                        #expect(reply.status == 500, "5xx answers are passed through")
                        fromB += 1
                    } else {
                        #expect(reply.status == 200 && reply.backend == "a")
                    }
                }
                let status = try #require(try await cluster.servers(balancer)["b"])
                if count5xx {
                    // Three 500s in a row eject b; round robin sent it nothing after that.
                    #expect(status.ejections == 1, "count_5xx: true ejects the server: \(status)")
                    #expect(status.usable == false && status.health == "down", "\(status)")
                    #expect(fromB == 3 && status.selected == 3, "b got \(fromB) requests, selected \(status.selected)")
                } else {
                    // Not one 500 counts as a failure: b stays in rotation for its half.
                    #expect(status.ejections == 0, "count_5xx: false never ejects for 5xx: \(status)")
                    #expect(status.usable && status.health == "up", "\(status)")
                    #expect(fromB == 10 && status.responses5xx == 10, "b got \(fromB) requests, \(status.responses5xx) answered 5xx")
                }
            }
        }

        // MARK: Client timeouts

        /// `limits.client_idle_timeout`: "An idle keep-alive client connection is closed after
        /// this" — and only an idle one: a connection busy with requests (one after another for
        /// longer than the timeout, or one in flight for longer) stays open.
        @Test func anIdleKeepAliveClientIsClosedAfterClientIdleTimeoutAndABusyOneIsNot() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let idleTimeout = Duration.seconds(1)
                let balancer = try await cluster.startBalancer(
                    yaml: LiveCluster.config([a], extra: "limits:\n  client_idle_timeout: 1s\n  client_header_timeout: 30s\n", healthInterval: "1h")
                )
                // Closed "after" the timeout: not before it, and not much later either (4 s of
                // margin for a loaded machine; the header timeout, a later deadline the
                // connection's timer also knows, is 30 s).
                let closeBy = idleTimeout + .seconds(4)
                let port = balancer.proxyPort
                let get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

                // Idle after one exchange: closed once the timeout passed, not before.
                let idle = try RawHTTPConnection(port: port)
                // The idle time starts when the balancer read the backend's response: after
                // `sent`, a moment before `answered`.
                let sent = ContinuousClock.now
                await idle.send(get)
                #expect(await idle.readResponse().hasPrefix("HTTP/1.1 200"))
                let answered = ContinuousClock.now
                let idleEnd = await idle.readUntilEnd()
                let closed = ContinuousClock.now
                #expect(idleEnd.text.isEmpty && idleEnd.end == .closed, "the idle keep-alive connection ended by \(idleEnd.end) after \(closed - answered): \(idleEnd.text.prefix(60))")
                #expect(closed - sent >= idleTimeout, "closed \(closed - sent) after the request was sent, before client_idle_timeout")
                #expect(closed - answered < closeBy, "closed \(closed - answered) after the last response, with a 1 s client_idle_timeout")

                // A connection that never sent a byte is idle too.
                let opened = ContinuousClock.now  // before the connect, so before the balancer's accept
                let silent = try RawHTTPConnection(port: port)
                let silentEnd = await silent.readUntilEnd()
                let silentFor = ContinuousClock.now - opened
                #expect(silentEnd.text.isEmpty && silentEnd.end == .closed, "the silent connection ended by \(silentEnd.end) after \(silentFor)")
                #expect(silentFor >= idleTimeout, "closed after \(silentFor), before client_idle_timeout")
                #expect(silentFor < closeBy, "closed \(silentFor) after it opened, with a 1 s client_idle_timeout")

                // Busy: requests 250 ms apart for three idle timeouts, then one that stays in
                // flight for two of them — all on the same connection, which stays open.
                let busy = try RawHTTPConnection(port: port)
                let started = ContinuousClock.now
                var served = 0
                while ContinuousClock.now - started < idleTimeout * 3 {
                    await busy.send(get)
                    let reply = await busy.readResponse()
                    #expect(reply.hasPrefix("HTTP/1.1 200"), "request \(served + 1) on the busy connection, \(ContinuousClock.now - started) after it opened: \(reply.prefix(60))")
                    guard reply.hasPrefix("HTTP/1.1 200") else { return }
                    served += 1
                    // Real time is the behaviour under test: a client pausing less than the
                    // balancer's client_idle_timeout (another process, on its own clock).
                    try await Task.sleep(for: .milliseconds(250))
                }
                await busy.send("GET /slow?ms=2000 HTTP/1.1\r\nHost: x\r\n\r\n")
                let slow = await busy.readResponse()
                #expect(slow.hasPrefix("HTTP/1.1 200"), "a request in flight for longer than client_idle_timeout is not cut: \(slow.prefix(60))")
                await busy.send(get)
                #expect(await busy.readResponse().hasPrefix("HTTP/1.1 200"), "the busy connection is still open")
                // And once it is idle, it is closed too.
                let lastAnswer = ContinuousClock.now
                let busyEnd = await busy.readUntilEnd()
                let busyIdleFor = ContinuousClock.now - lastAnswer
                #expect(busyEnd.end == .closed && busyIdleFor < closeBy, "ended by \(busyEnd.end) \(busyIdleFor) after the last response")
                #expect(served >= 5)
            }
        }

        // MARK: Backend connect timeout

        /// `limits.backend_connect_timeout`: "Time to open a TCP connection to a backend; a
        /// failure is retried on another server".
        ///
        /// What the timeout guards against is a backend whose host never answers the SYN (a
        /// dead machine, a firewall that drops): a refused connection fails at once and needs no
        /// timeout. On 127.0.0.1 a listening socket whose accept queue is full does exactly
        /// that: Linux drops SYNs to it (counted as ListenOverflows) instead of refusing them,
        /// so the connect hangs, retransmitting the SYN, for about two minutes.
        @Test func aBackendThatNeverCompletesTheConnectIsGivenUpAfterTheConnectTimeout() async throws {
            let hole = try SilentListener()
            try hole.fillAcceptQueue()
            #expect(hole.connectHangs(for: .milliseconds(300)), "a connect to the full listener hangs (the test's premise)")
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let silent = TestBackendProcess(name: "hole", port: hole.port, process: a.process, postLog: "")
                let connectTimeout = Duration.seconds(1)
                // Health probes of the hole hang for a minute before they count as failed, and
                // passive ejection is off: the hole stays in rotation for the whole test.
                var yaml = LiveCluster.config(
                    [silent, a],
                    extra: "slow_start: 0\nlimits:\n  backend_connect_timeout: 1s\npassive:\n  consecutive_failures: 0\n",
                    healthInterval: "1h"
                )
                yaml = yaml.replacingOccurrences(of: "  timeout: 500ms\n", with: "  timeout: 60s\n")
                let balancer = try await cluster.startBalancer(yaml: yaml)

                var slowest = Duration.zero
                for n in 0..<4 {
                    let started = ContinuousClock.now
                    let reply = try await cluster.request(port: balancer.proxyPort, n % 2 == 0 ? "/" : "/orders", method: n % 2 == 0 ? .GET : .POST, body: n % 2 == 0 ? nil : "x")
                    let took = ContinuousClock.now - started
                    slowest = max(slowest, took)
                    #expect(reply.status == 200 && reply.backend == "a", "request \(n): \(reply.status) from \(reply.backend ?? "-")")
                    // Promised: the connect is given up after the timeout and retried at once;
                    // 4 s of margin for a loaded machine (without the timeout: 10 s NIO's default,
                    // or the kernel's two minutes).
                    #expect(took < connectTimeout + .seconds(4), "request \(n) took \(took) with a 1 s connect timeout")
                }
                let status = try #require(try await cluster.servers(balancer)["hole"])
                #expect(status.selected >= 1 && status.failures == status.selected, "every attempt on the hole failed: \(status)")
                #expect(slowest >= connectTimeout, "the attempts on the hole waited for the connect timeout (slowest \(slowest))")
            }
        }

        // MARK: Process life

        /// SIGTERM: "in-flight requests finish (…), for at most `shutdown_grace_period`; whatever
        /// is left then is closed."
        @Test func whenTheShutdownGraceRunsOutInFlightRequestsAreCutAndTheProcessExits() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let grace = Duration.seconds(1)
                let balancer = try await cluster.startBalancer(yaml: LiveCluster.config([a], extra: "shutdown_grace_period: 1s\n", healthInterval: "1h"))
                // A request that would take 20 s, far beyond the grace.
                let inFlight = try RawHTTPConnection(port: balancer.proxyPort)
                await inFlight.send("GET /slow?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n")
                try await waitUntil("the request is in flight") {
                    try await cluster.servers(balancer)["a"]?.activeRequests == 1
                }
                let signalled = ContinuousClock.now
                balancer.process.send(SIGTERM)
                // Margin for a loaded machine: 5 s (the request would end only after 20 s).
                let status = await balancer.process.waitForExit(timeout: grace + .seconds(5))
                let exitedAfter = ContinuousClock.now - signalled
                #expect(status != nil, "the balancer still ran \(exitedAfter) after SIGTERM with a 1 s grace period")
                #expect(exitedAfter >= grace, "the in-flight request got its grace period (exited after \(exitedAfter))")
                let cut = await inFlight.readUntilEnd()
                #expect(!cut.text.contains("200"), "the slow request was cut, not answered: \(cut.text.prefix(60))")
                #expect(cut.end == .closed || cut.end == .reset, "the in-flight request's connection ended by \(cut.end)")
            }
        }

        /// "Exit status … 1 if a listener cannot be bound" — the proxy listener or the admin one.
        @Test func aListenerThatCannotBeBoundExitsWithStatus1() async throws {
            let taken = try SilentListener()
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                let base = LiveCluster.config([a], healthInterval: "1h")
                let proxyTaken = base.replacingOccurrences(of: "listeners:\n  - address: 127.0.0.1:0\n", with: "listeners:\n  - address: 127.0.0.1:\(taken.port)\n")
                let adminTaken = base.replacingOccurrences(of: "admin:\n  address: 127.0.0.1:0\n", with: "admin:\n  address: 127.0.0.1:\(taken.port)\n")
                #expect(proxyTaken != base && adminTaken != base)
                for (which, yaml) in [("proxy", proxyTaken), ("admin", adminTaken)] {
                    let path = try cluster.writeConfig(yaml, name: "\(which).yaml")
                    let process = try cluster.processes.start("steadfast", ["balance", "--config", path], name: "taken-\(which)")
                    let status = await process.waitForExit()
                    #expect(status == 1, "\(which) port taken: exit status \(status.map(String.init) ?? "none (still running)"), stderr: \(process.standardError.suffix(300))")
                    #expect(process.standardError.contains("cannot start"), "\(process.standardError.suffix(300))")
                    #expect(!process.standardOutput.contains("listening"))
                }
            }
        }

        // MARK: Reload

        /// SIGHUP: "limits apply to connections accepted after the reload (an established
        /// connection keeps the rules it started with)".
        @Test func limitsChangedByAReloadApplyToConnectionsAcceptedAfterIt() async throws {
            try await LiveCluster.run { cluster in
                let a = try await cluster.startBackend("a")
                func config(headerBytes: Int, bodyBytes: Int) -> String {
                    LiveCluster.config([a], extra: "limits:\n  max_header_bytes: \(headerBytes)\n  max_body_bytes: \(bodyBytes)\n", healthInterval: "1h")
                }
                let balancer = try await cluster.startBalancer(yaml: config(headerBytes: 8192, bodyBytes: 1_048_576))
                let port = balancer.proxyPort
                let post = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + String(repeating: "b", count: 3000)
                let bigHead = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "p", count: 3000))\r\n\r\n"
                func exchange(_ connection: RawHTTPConnection, _ request: String) async -> String {
                    await connection.send(request)
                    return String(await connection.readResponse().prefix(12))
                }

                // Before: a 3000-byte body and a 3 KB head are within the limits.
                let before = try RawHTTPConnection(port: port)
                #expect(await exchange(before, post) == "HTTP/1.1 200")
                #expect(await exchange(before, bigHead) == "HTTP/1.1 200")
                // A connection accepted before the reload, still open across it.
                let established = try RawHTTPConnection(port: port)
                #expect(await exchange(established, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 200")

                _ = try cluster.writeConfig(config(headerBytes: 2048, bodyBytes: 1024))
                balancer.process.send(SIGHUP)
                try await waitUntil("the reload is logged") {
                    balancer.process.standardError.contains("configuration reloaded")
                }

                // After: new connections (two, one per event loop) get the new limits at once.
                for n in 0..<2 {
                    #expect(await exchange(try RawHTTPConnection(port: port), post) == "HTTP/1.1 413", "new connection \(n): body over the reloaded max_body_bytes")
                    #expect(await exchange(try RawHTTPConnection(port: port), bigHead) == "HTTP/1.1 431", "new connection \(n): head over the reloaded max_header_bytes")
                }
                // The established connection keeps the rules it started with.
                #expect(await exchange(established, post) == "HTTP/1.1 200", "an established connection keeps its max_body_bytes")
                #expect(await exchange(established, bigHead) == "HTTP/1.1 200", "an established connection keeps its max_header_bytes")
                #expect(balancer.process.isRunning)
            }
        }
    }
}

/// A TCP listener on 127.0.0.1 held by the test process that never accepts: with its accept
/// queue filled (``fillAcceptQueue()``) the kernel drops further SYNs to it, so a connect to
/// it neither succeeds nor is refused. Also simply holds a port so nobody else can bind it.
final class SilentListener: @unchecked Sendable {
    // @unchecked: the descriptors are only touched by the one test that owns this object,
    // sequentially, and closed in deinit.
    let port: Int
    private let fd: Int32
    private var fillers: [Int32] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        // Backlog 0: Linux queues one connection (queue full when more than `backlog` wait).
        guard bound == 0, listen(fd, 0) == 0 else {
            close(fd)
            throw HarnessError("bind/listen failed: \(errno)")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        for filler in fillers { close(filler) }
        close(fd)
    }

    /// Connects (and keeps) one connection the listener never accepts: the queue is full.
    func fillAcceptQueue() throws {
        guard let filler = FreePort.connectLoopback(port: port) else { throw HarnessError("filler connect failed: \(errno)") }
        fillers.append(filler)
    }

    /// Whether a connect to the listener is still pending after `duration` (blocking; short).
    func connectHangs(for duration: Duration) -> Bool {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        let milliseconds = Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        var timeout = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(probe, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // With SO_SNDTIMEO a blocking connect that gets no answer gives up with EINPROGRESS.
        return connected != 0 && (errno == EINPROGRESS || errno == EAGAIN)
    }
}
