import Logging
import ServiceLifecycle
import SteadfastDomain
import SteadfastServices
import SteadfastStorage

/// Re-reads the per-type storage routes from the database every `interval` (on the node's clock), so a
/// `steadfast storage migrate` that switched a type on one machine reaches every node without a
/// restart. Failures are logged and retried at the next tick.
struct StorageRouteRefresher: Service {
    let registry: StorageRegistry
    let catalog: SQLFileCatalog
    let interval: Duration
    let clock: any WallClock
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (interval, clock) = (self.interval, self.clock)
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            await refresh()
        }
    }

    func refresh() async {
        let before = FileType.allCases.map { registry.route(for: $0) }
        do {
            try await registry.refreshRoutes(from: catalog)
        } catch {
            logger.warning("could not refresh storage routes", metadata: ["error": "\(error)"])
            return
        }
        for (type, old) in zip(FileType.allCases, before) where registry.route(for: type) != old {
            logger.notice("storage route changed", metadata: ["steadfast.storage.type": "\(type.rawValue)", "steadfast.storage.target": "\(registry.route(for: type).target)"])
        }
    }
}
