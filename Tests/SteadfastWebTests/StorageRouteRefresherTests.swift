import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import SteadfastServices
import SteadfastStorage
import SteadfastTestSupport
@testable import SteadfastWeb
import Testing

/// The storage route refresher re-reads the routes every interval of the node's clock: a switch
/// recorded by another machine reaches this node when the interval has passed, not before.
@Suite struct StorageRouteRefresherTests {
    @Test func aSwitchReachesTheNodeAtItsNextIntervalOnTheClock() async throws {
        try await withDatabases(.sqlite, connections: 1) { databases in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("refresher-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            for name in ["a", "b"] { try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true) }
            let storage = StorageConfiguration(
                targets: [StorageTarget(name: "nas-a", kind: .local, path: "\(root)/a"), StorageTarget(name: "nas-b", kind: .local, path: "\(root)/b")],
                defaultTarget: "nas-a"
            )
            let registry = try StorageRegistry(configuration: storage, linkSecret: String(repeating: "r", count: 40), httpClient: HTTPClient.shared)
            let catalog = SQLFileCatalog(database: databases[0])
            let clock = ManualClock()
            let logger = Logger(label: "test")
            let refresher = StorageRouteRefresher(registry: registry, catalog: catalog, interval: .seconds(5), clock: clock, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [refresher], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await waitUntil("the refresher waits on the clock") { clock.sleepers == 1 }
                try await catalog.switchTarget(of: .downloads, to: "nas-b")
                clock.advance(by: .seconds(4))
                // Its interval has not passed on the clock: it still sleeps, the route is the old one.
                #expect(clock.sleepers == 1 && registry.route(for: .downloads).target == "nas-a")
                clock.advance(by: .seconds(1))
                try await waitUntil("the switch reached the node") { registry.route(for: .downloads).target == "nas-b" }
                try await waitUntil("the refresher waits for its next interval") { clock.sleepers == 1 }
                // Graceful shutdown ends the wait: it returns without the clock moving.
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
