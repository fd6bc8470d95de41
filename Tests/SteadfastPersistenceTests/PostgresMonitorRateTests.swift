import Foundation
import Logging
@testable import SteadfastPersistence
import SteadfastTestSupport
import Testing

/// How often the role monitor connects, counted by the server itself: every probe is a new
/// session, and with `log_connections = on` PostgreSQL logs one `connection authorized` line per
/// session. A node once opened ~29 connections a second per host with `monitor_interval: 1s`,
/// because the monitor's wait for on-demand probes ended the request stream after its first
/// quiet interval, after which it probed every 20 ms.
///
/// The monitor runs on a `ManualClock` the tests move, so "a second" is a second of that clock:
/// the counts are exact, whatever the machine's load, and no test waits for real time to pass.
@Suite(.serialized, .timeLimit(.minutes(2))) struct PostgresMonitorRateTests {
    /// A server of its own (the shared one does not log connections, and other suites' sessions
    /// would be counted), with one fresh database whose sessions are the cluster's alone.
    static func withServer<T: Sendable>(_ body: @Sendable (PostgresServer, String) async throws -> T) async throws -> T {
        let server = try await PostgresServer.start(settings: ["log_connections": "on"])
        defer { server.stop() }
        let name = try await server.createDatabase()
        return try await body(server, name)
    }

    /// Sessions opened on database `name` so far, as the server logged them (a backend logs its
    /// session before it answers, so a probe that has ended is counted).
    static func sessions(_ server: PostgresServer, database name: String) -> Int {
        server.serverLog.split(separator: "\n").count { $0.contains("connection authorized:") && $0.contains("database=\(name)") }
    }

    static func withCluster<T: Sendable>(
        _ server: PostgresServer, database: String, monitorInterval: Duration, clock: ManualClock, _ body: @Sendable (PostgresCluster) async throws -> T
    ) async throws -> T {
        guard case .postgres(let target) = try DatabaseURL(server.url(database: database)) else { throw HarnessError("not postgres") }
        let cluster = PostgresCluster(target: target, maximumConnections: 2, monitorInterval: monitorInterval, clock: clock, logger: Logger(label: "test"))
        return try await whileRunning(cluster, body)
    }

    /// Waits until the monitor is between probes, its timers (`timers` of them) sleeping on the clock.
    static func waitForTimers(_ clock: ManualClock, _ timers: Int) async throws {
        try await waitUntil("\(timers) monitor timers on the clock, saw \(clock.sleepers)", interval: .milliseconds(5)) { clock.sleepers == timers }
    }

    /// Waits until a probe has found the primary, moving the clock if one has to. A probe's own
    /// time limit is real time, `min(monitor_interval, 1 s)` (200 ms below), so on a starved
    /// machine the first probe can run out of it; the monitor then waits its search interval
    /// (100 ms) on the clock, which nobody else moves. Counting starts only after this.
    static func waitForPrimary(_ cluster: PostgresCluster, _ clock: ManualClock) async throws {
        guard await clock.drive(by: .milliseconds(100), limit: .seconds(60), until: { cluster.canWrite }) else {
            throw WaitTimedOut("no probe found the primary within 60 s of the clock")
        }
    }

    /// One idle cluster client, one host, `monitor_interval` 1 s: one probe session per second of
    /// the clock, however the second is cut up (the old monitor, woken by every move of the
    /// clock, would open one per 100 ms step).
    @Test func anIdleClusterProbesOncePerIntervalPerHost() async throws {
        try await Self.withServer { server, name in
            let clock = ManualClock()
            try await Self.withCluster(server, database: name, monitorInterval: .seconds(1), clock: clock) { cluster in
                // The first probe runs at once and (on a machine that is not starved) finds the
                // primary; then the monitor's timer waits.
                try await Self.waitForPrimary(cluster, clock)
                try await Self.waitForTimers(clock, 1)
                var perSecond: [Int] = []
                for _ in 0..<5 {
                    let before = Self.sessions(server, database: name)
                    for _ in 0..<10 {
                        clock.advance(by: .milliseconds(100))
                        try await Self.waitForTimers(clock, 1)
                    }
                    perSecond.append(Self.sessions(server, database: name) - before)
                }
                #expect(perSecond == [1, 1, 1, 1, 1], "probe sessions in each second of the clock: \(perSecond)")
            }
        }
    }

    /// Many failures asking for a probe at once are served by one probe, no sooner than the
    /// minimum gap after the last; once answered the monitor goes back to its interval (an hour).
    @Test func probesAskedForOnDemandAreCoalesced() async throws {
        try await Self.withServer { server, name in
            let clock = ManualClock()
            try await Self.withCluster(server, database: name, monitorInterval: .seconds(3600), clock: clock) { cluster in
                try await Self.waitForPrimary(cluster, clock)
                try await Self.waitForTimers(clock, 1)
                let before = Self.sessions(server, database: name)
                await withDiscardingTaskGroup { group in
                    for _ in 0..<200 { group.addTask { cluster.requestProbe() } }
                }
                // The asks arm one timer for the minimum gap (20 ms) after the last probe; the
                // hour's timer, superseded, sleeps on. No probe until the clock moves.
                try await Self.waitForTimers(clock, 2)
                #expect(Self.sessions(server, database: name) == before, "a probe ran before the minimum gap")
                clock.advance(by: .milliseconds(20))
                // The gap's timer fired: one probe, then the interval's timer.
                try await Self.waitForTimers(clock, 2)
                #expect(Self.sessions(server, database: name) == before + 1, "200 asks in one burst")
                // A second burst: again one probe, after the gap.
                for _ in 0..<50 { cluster.requestProbe() }
                try await Self.waitForTimers(clock, 3)
                #expect(Self.sessions(server, database: name) == before + 1)
                clock.advance(by: .milliseconds(20))
                try await Self.waitForTimers(clock, 3)
                #expect(Self.sessions(server, database: name) == before + 2, "250 asks in two bursts")
                // And then nothing within the hour: no timer is due, so none wakes.
                clock.advance(by: .seconds(3599))
                #expect(clock.sleepers == 3 && Self.sessions(server, database: name) == before + 2, "a probe within the hour")
            }
        }
    }

    /// `close()` stops the monitor: `run()` returns by itself, no timer is left on the clock and
    /// no probe follows. (The old monitor, its ask stream finished by `close()`, went on probing
    /// every 20 ms until cancelled.)
    @Test func closingTheClusterStopsTheMonitor() async throws {
        try await Self.withServer { server, name in
            guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not postgres") }
            let clock = ManualClock()
            let cluster = PostgresCluster(target: target, maximumConnections: 2, monitorInterval: .milliseconds(200), clock: clock, logger: Logger(label: "test"))
            let finished = LockedBox(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await cluster.run()
                    finished.with { $0 = true }
                }
                defer { group.cancelAll() }
                try await Self.waitForPrimary(cluster, clock)
                try await Self.waitForTimers(clock, 1)
                try await cluster.close()
                try await waitUntil("run() returns after close()", interval: .milliseconds(10)) { finished.value }
                #expect(clock.sleepers == 0, "a monitor timer outlived close()")
                let after = Self.sessions(server, database: name)
                clock.advance(by: .seconds(1))  // five intervals
                #expect(Self.sessions(server, database: name) == after, "probes went on after close()")
            }
        }
    }
}
