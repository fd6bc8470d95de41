import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import SteadfastBalancer

/// The health checker's time is its event loop's: checks are scheduled on the loop and their
/// results reach the pool at the loop's `now`. On an `EmbeddedEventLoop` the test moves that
/// time itself, so the check intervals, draining and a returning server's slow start are driven
/// here without a real wait (the live failover tests cover the same with real processes).
struct HealthCheckerTests {
    /// A backend answering its checks from a script: a status, or nil for a failed connection.
    final class ScriptedBackend: Sendable {
        private let script: Mutex<[Int?]>
        private let asked = Mutex(0)

        init(_ script: [Int?]) { self.script = Mutex(script) }

        var checks: Int { asked.withLock { $0 } }

        func probe(_ address: SocketAddress, _ check: BalancerConfiguration.HealthCheck, _ loop: any EventLoop) -> EventLoopFuture<Int> {
            asked.withLock { $0 += 1 }
            let status = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            guard let status else { return loop.makeFailedFuture(ChannelError.connectTimeout(check.timeout)) }
            return loop.makeSucceededFuture(status)
        }
    }

    @Test func checksFollowTheLoopsClockA503DrainsAndSlowStartBeginsOnIt() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        var health = BalancerConfiguration.HealthCheck()
        health.interval = .seconds(2)
        health.fastInterval = .milliseconds(500)
        health.fall = 2
        health.rise = 2
        let a = BalancerStateMachine.ServerDefinition(name: "a", address: try SocketAddress(ipAddress: "127.0.0.1", port: 9001), weight: 10, backup: false)
        let pool = ServerPool(BalancerStateMachine(servers: [a], settings: .init(slowStart: .seconds(10), health: health), randomSeed: 1))
        // up; 503, 503 (draining); 200 (back); fail, fail (down at fall 2); pass, pass (up at rise 2)
        let backend = ScriptedBackend([200, 503, 503, 200, nil, nil, 200, 200])
        let checker = HealthChecker(group: loop, pool: pool, logger: Logger(label: "test"), probe: backend.probe)
        func server(at now: NIODeadline? = nil) -> ServerStatus? { pool.snapshot(now: now ?? loop.now).first }

        checker.start(servers: ["a"])
        loop.run()
        #expect(backend.checks == 1, "the first check runs at once")
        #expect(server()?.health == "up")

        loop.advanceTime(by: .milliseconds(1999))
        #expect(backend.checks == 1, "no check before the interval")
        loop.advanceTime(by: .milliseconds(1))
        #expect(backend.checks == 2)
        #expect(server()?.health == "draining" && server()?.usable == false)

        loop.advanceTime(by: .seconds(2))  // a draining server is checked at the normal interval
        #expect(backend.checks == 3 && server()?.health == "draining")
        loop.advanceTime(by: .seconds(2))
        #expect(backend.checks == 4 && server()?.health == "up" && server()?.usable == true)

        loop.advanceTime(by: .seconds(2))
        #expect(backend.checks == 5 && server()?.health == "failing")
        loop.advanceTime(by: .milliseconds(499))
        #expect(backend.checks == 5, "a failing server is checked at the fast interval, not sooner")
        loop.advanceTime(by: .milliseconds(1))
        #expect(backend.checks == 6 && server()?.health == "down" && server()?.usable == false)

        loop.advanceTime(by: .seconds(2))
        #expect(backend.checks == 7 && server()?.health == "recovering")
        loop.advanceTime(by: .milliseconds(500))
        #expect(backend.checks == 8 && server()?.health == "up")

        // Slow start began at the loop's time of that last check: half way after 5 s of it,
        // over after 10 s (on a real clock it would have begun somewhere else entirely).
        #expect(server()?.slowStart == true)
        #expect(server(at: loop.now + .seconds(5))?.effectiveWeight == 5)
        #expect(server(at: loop.now + .seconds(10))?.slowStart == false)
        #expect(server(at: loop.now + .seconds(10))?.effectiveWeight == 10)

        checker.stop()
        loop.advanceTime(by: .seconds(60))
        #expect(backend.checks == 8, "a stopped checker checks no more")
    }
}
