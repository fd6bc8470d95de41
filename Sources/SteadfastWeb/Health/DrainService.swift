import Logging
import ServiceLifecycle
import SteadfastDomain
import Synchronization

/// Listed last in the node's service group (``PortalNode``), after the HTTP application, so it
/// hears about a graceful shutdown first (ServiceGroup shuts services down in reverse order).
///
/// On SIGTERM/SIGINT it flips `/readyz` to 503 and waits the drain delay while the HTTP server
/// keeps serving — long enough for load balancers' health checks to notice (on the node's clock,
/// so a test moves it instead of waiting). Only when it returns
/// does the group shut down the application (which stops accepting, finishes in-flight requests,
/// then stops its background services) and, after it, the database.
public struct DrainService: Service {
    let state: DrainState
    let delay: Duration
    let clock: any WallClock
    let logger: Logger

    public init(state: DrainState, delay: Duration, clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.state = state
        self.delay = delay
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        // Returns when graceful shutdown starts (or throws on cancellation).
        try await gracefulShutdown()
        state.startDraining()
        // Stopped during set-up: no load balancer sends here yet, so nothing to wait for.
        guard state.isServing else { return }
        logger.notice("draining: /readyz now answers 503", metadata: ["steadfast.drain.delay": "\(DurationText.format(delay))"])
        try? await clock.sleep(for: delay)
        logger.notice("drain delay over; closing the listener and finishing in-flight requests")
    }
}

/// Whether the node serves and whether it is draining: the application marks it serving once its
/// listener is bound; ``DrainService`` sets draining when graceful shutdown starts, which
/// ``Readiness`` reports (`/readyz` then answers 503 `draining` while requests are still served).
public final class DrainState: Sendable {
    private struct Flags {
        var serving = false
        var draining = false
    }

    private let flags = Mutex(Flags())

    public init() {}

    public func markServing() {
        flags.withLock { $0.serving = true }
    }

    public func startDraining() {
        flags.withLock { $0.draining = true }
    }

    public var isServing: Bool { flags.withLock { $0.serving } }
    public var isDraining: Bool { flags.withLock { $0.draining } }
}
