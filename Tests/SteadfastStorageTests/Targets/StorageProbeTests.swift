import Foundation
import NIOCore
import SteadfastConcurrency
import SteadfastStorage
import SteadfastTestSupport
import Testing

/// A target's checks are bounded on the clock they are given (`ContinuousClock` in production):
/// a target that does not answer is reported unavailable once that clock reaches the limit, not
/// before, and one that answers is healthy. On a `ManualClock`, so no test waits for a limit.
@Suite(.timeLimit(.minutes(1))) struct StorageProbeTests {
    /// A local directory whose health check and writes, when hung, wait until cancelled (a
    /// mount that stopped answering).
    final class HungStorage: StorageWrapper {
        let base: any FileStorage
        let hung: Bool
        init(_ base: any FileStorage, hung: Bool) {
            self.base = base
            self.hung = hung
        }

        private func hangIfHung() async throws {
            guard hung else { return }
            await OneShotEvent().wait()
            try Task.checkCancellation()
        }

        var displayName: String { "hung \(base.displayName)" }
        func write<Body: AsyncSequence>(key: String, body: Body, size: Int64, contentType: String) async throws -> StoredObject where Body.Element == ByteBuffer {
            try await hangIfHung()
            return try await base.write(key: key, body: body, size: size, contentType: contentType)
        }
        func healthCheck() async throws {
            try await hangIfHung()
            try await base.healthCheck()
        }
    }

    @Test func aHungTargetIsUnavailableWhenItsLimitPassesOnTheClock() async throws {
        try await withTemporaryDirectory { root in
            let storage = HungStorage(try LocalFileStorage(root: root), hung: true)
            let clock = ManualClock()
            async let health = StorageProbe.healthCheck(target: "nas", storage: storage, timeout: .seconds(5), clock: clock.steady)
            async let roundTrip = StorageProbe.roundTrip(target: "nas", storage: storage, timeout: .seconds(30), clock: clock.steady)
            try await waitUntil("both limits asleep on the clock") { clock.isSleeping(for: .seconds(5)) && clock.isSleeping(for: .seconds(30)) }
            clock.advance(by: .milliseconds(4_999))
            #expect(clock.isSleeping(for: .seconds(5)))
            clock.advance(by: .milliseconds(1))
            let healthCheck = await health
            #expect(healthCheck.error?.kind == .unavailable)
            #expect(healthCheck.error?.message.hasPrefix("no answer within 5") == true, "\(healthCheck)")
            #expect(healthCheck.latency == nil && !healthCheck.isHealthy)
            // The round trip's longer limit is still running.
            #expect(clock.isSleeping(for: .seconds(30)))
            clock.advance(by: .seconds(25))
            let probe = await roundTrip
            #expect(probe.error?.kind == .unavailable && probe.target == "nas", "\(probe)")
            #expect(clock.sleepers == 0)
        }
    }

    @Test func aTargetThatAnswersIsHealthyWithItsLatency() async throws {
        try await withTemporaryDirectory { root in
            let storage = HungStorage(try LocalFileStorage(root: root), hung: false)
            let clock = ManualClock()
            let health = await StorageProbe.healthCheck(target: "nas", storage: storage, timeout: .seconds(5), clock: clock.steady)
            let probe = await StorageProbe.roundTrip(target: "nas", storage: storage, timeout: .seconds(30), clock: clock.steady)
            #expect(health.isHealthy && health.latency != nil, "\(health)")
            #expect(probe.isHealthy && probe.latency != nil, "\(probe)")
            // Its limits' timers ended with the checks.
            #expect(clock.sleepers == 0)
        }
    }
}
