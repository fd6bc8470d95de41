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
@Suite(.serialized, .timeLimit(.minutes(2))) struct PostgresMonitorRateTests {
    /// A server of its own (the shared one does not log connections, and other suites' sessions
    /// would be counted), with one fresh database whose sessions are the cluster's alone.
    static func withServer<T: Sendable>(_ body: @Sendable (PostgresServer, String) async throws -> T) async throws -> T {
        let server = try await PostgresServer.start(settings: ["log_connections": "on"])
        defer { server.stop() }
        let name = try await server.createDatabase()
        return try await body(server, name)
    }

    /// Sessions opened on database `name` so far, as the server logged them.
    static func sessions(_ server: PostgresServer, database name: String) -> Int {
        server.serverLog.split(separator: "\n").count { $0.contains("connection authorized:") && $0.contains("database=\(name)") }
    }

    static func withCluster<T: Sendable>(
        _ server: PostgresServer, database: String, monitorInterval: Duration, _ body: @Sendable (PostgresCluster) async throws -> T
    ) async throws -> T {
        guard case .postgres(let target) = try DatabaseURL(server.url(database: database)) else { throw HarnessError("not postgres") }
        let cluster = PostgresCluster(target: target, maximumConnections: 2, monitorInterval: monitorInterval, logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await cluster.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(cluster)
        }
    }

    /// One idle cluster client, one host, `monitor_interval` 1 s: over 5 s the server sees about
    /// five probe sessions (one a second), not hundreds.
    @Test func anIdleClusterProbesOncePerIntervalPerHost() async throws {
        try await Self.withServer { server, name in
            try await Self.withCluster(server, database: name, monitorInterval: .seconds(1)) { cluster in
                // The first probe has answered: the host is known to be the primary.
                #expect(await eventually(timeout: .seconds(10), interval: .milliseconds(10)) { cluster.canWrite })
                // Let the first quiet interval pass: that is when the old monitor broke.
                try await Task.sleep(for: .milliseconds(1500))
                let before = Self.sessions(server, database: name)
                try await Task.sleep(for: .seconds(5))
                let opened = Self.sessions(server, database: name) - before
                print("monitor rate: \(opened) sessions in 5 s from one idle cluster client (interval 1 s, one host)")
                // 5 probes in 5 s; slack of 2 for where the window falls and a slow probe.
                #expect(opened <= 7, "\(opened) sessions in 5 s from one idle cluster client")
                // And the monitor still probes: it did not stop instead.
                #expect(opened >= 3, "\(opened) sessions in 5 s: the monitor stopped probing")
            }
        }
    }

    /// Many failures asking for a probe at once are served by a few probes, not one each, and
    /// once they are answered the monitor goes back to its interval (an hour here).
    @Test func probesAskedForOnDemandAreCoalesced() async throws {
        try await Self.withServer { server, name in
            try await Self.withCluster(server, database: name, monitorInterval: .seconds(3600)) { cluster in
                #expect(await eventually(timeout: .seconds(10), interval: .milliseconds(10)) { cluster.canWrite })
                let before = Self.sessions(server, database: name)
                await withDiscardingTaskGroup { group in
                    for _ in 0..<200 { group.addTask { cluster.requestProbe() } }
                }
                // Asked for again while the first burst is answered.
                try await Task.sleep(for: .milliseconds(200))
                for _ in 0..<50 { cluster.requestProbe() }
                try await Task.sleep(for: .seconds(2))
                let opened = Self.sessions(server, database: name) - before
                print("monitor rate: \(opened) probe sessions for 250 asks in two bursts")
                #expect(opened >= 1, "no probe answered 250 requests")
                #expect(opened <= 4, "\(opened) probe sessions for 250 requests in two bursts")
            }
        }
    }

    /// `close()` stops the monitor: `run()` returns by itself and no probe follows. (The old
    /// monitor, its ask stream finished by `close()`, went on probing every 20 ms until cancelled.)
    @Test func closingTheClusterStopsTheMonitor() async throws {
        try await Self.withServer { server, name in
            guard case .postgres(let target) = try DatabaseURL(server.url(database: name)) else { throw HarnessError("not postgres") }
            let cluster = PostgresCluster(target: target, maximumConnections: 2, monitorInterval: .milliseconds(200), logger: Logger(label: "test"))
            let finished = LockedBox(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await cluster.run()
                    finished.with { $0 = true }
                }
                defer { group.cancelAll() }
                #expect(await eventually(timeout: .seconds(10), interval: .milliseconds(10)) { cluster.canWrite })
                try await cluster.close()
                #expect(await eventually(timeout: .seconds(5), interval: .milliseconds(10)) { finished.value }, "run() went on after close()")
                let after = Self.sessions(server, database: name)
                try await Task.sleep(for: .seconds(1))  // five intervals
                #expect(Self.sessions(server, database: name) == after, "probes went on after close()")
            }
        }
    }
}
