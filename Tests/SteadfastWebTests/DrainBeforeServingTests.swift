import Logging
import ServiceLifecycle
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// Stopped before its listener is bound (e.g. while set-up waits for the database), a node has
/// no load balancer to warn: the drain marks it draining and does not wait its delay.
@Suite struct DrainBeforeServingTests {
    @Test(.timeLimit(.minutes(1))) func aNodeStoppedBeforeServingDoesNotWait() async throws {
        let clock = ManualClock()
        let state = DrainState()
        let logger = Logger(label: "test")
        let group = ServiceGroup(configuration: .init(services: [DrainService(state: state, delay: .seconds(10), clock: clock, logger: logger)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(state.isDraining && clock.sleepers == 0)
        }
    }
}
