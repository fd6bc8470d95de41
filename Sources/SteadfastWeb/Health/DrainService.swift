import Logging
import ServiceLifecycle

/// Listed after the HTTP application in the node's group, so it hears about a graceful shutdown
/// before the application does (ServiceGroup shuts services down in reverse order; only the
/// scheduler, listed last, hears first).
///
/// On SIGTERM/SIGINT it flips `/readyz` to 503 and waits the drain delay while the HTTP server
/// keeps serving — long enough for load balancers' health checks to notice. Only when it returns
/// does the group shut down the HTTP server (which then stops accepting and finishes in-flight
/// requests) and, after it, the database.
public struct DrainService: Service {
    let readiness: Readiness
    let delay: Duration
    let logger: Logger

    public init(readiness: Readiness, delay: Duration, logger: Logger) {
        self.readiness = readiness
        self.delay = delay
        self.logger = logger
    }

    public func run() async throws {
        // Returns when graceful shutdown starts (or throws on cancellation).
        try await gracefulShutdown()
        readiness.startDraining()
        logger.notice("draining: /readyz now answers 503", metadata: ["steadfast.drain.delay": "\(delay)"])
        try? await Task.sleep(for: delay)
        logger.notice("drain delay over; closing the listener and finishing in-flight requests")
    }
}
