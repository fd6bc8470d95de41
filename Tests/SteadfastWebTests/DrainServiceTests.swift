import Logging
import ServiceLifecycle
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// On graceful shutdown the drain turns `/readyz` to 503 at once and holds the shutdown for its
/// delay, measured on the node's clock.
@Suite struct DrainServiceTests {
    @Test func theDrainLastsItsDelayOnTheClock() async throws {
        let clock = ManualClock()
        let state = DrainState()
        state.markServing()  // the listener is bound
        let logger = Logger(label: "test")
        let group = ServiceGroup(configuration: .init(services: [DrainService(state: state, delay: .seconds(10), clock: clock, logger: logger)], logger: logger))
        let finished = LockedBox(false)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                finished.with { $0 = true }
            }
            #expect(!state.isDraining)
            await group.triggerGracefulShutdown()
            try await waitUntil("draining, the delay sleeping on the clock") { state.isDraining && clock.sleepers == 1 }
            clock.advance(by: .seconds(9))
            // Not yet: the delay has not passed on the clock.
            #expect(clock.sleepers == 1 && !finished.value)
            clock.advance(by: .seconds(1))
            try await tasks.waitForAll()
            #expect(finished.value)
        }
    }
}
