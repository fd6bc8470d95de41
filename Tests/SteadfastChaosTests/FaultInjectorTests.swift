import Foundation
import Synchronization
import SteadfastTestSupport
import Testing
@testable import SteadfastChaos

/// Records what the injector asked for; commands take `commandTime` (of the `VirtualClock`, whose
/// sleeps return at once: the injector's schedule is checked without waiting) and may fail.
final class FakeCluster: ClusterControl {
    let clock: VirtualClock
    let failing: Set<String>
    let calls = Mutex<[String]>([])
    let commandTime: Duration

    init(clock: VirtualClock, failing: Set<String> = [], commandTime: Duration = .milliseconds(700)) {
        self.clock = clock
        self.failing = failing
        self.commandTime = commandTime
    }

    func status() async throws -> ClusterStatus {
        ClusterStatus(
            directory: "/tmp/c", url: "http://127.0.0.1:1", admin: .init(email: "a@example.com", password: "p"), topology: "s3", db: "promote",
            sticky: false, components: [.init(name: "balancer", kind: "balancer", health: "up", pid: 100), .init(name: "node-2", kind: "node", health: "up", pid: 202)]
        )
    }

    func run(_ arguments: [String]) async throws {
        let line = arguments.joined(separator: " ")
        calls.withLock { $0.append(line) }
        clock.advance(by: commandTime)
        if failing.contains(line) { throw ChaosError("\(line) failed") }
    }

    func signal(_ signal: Int32, pid: Int32) throws {
        calls.withLock { $0.append("\(FaultPlan.signalName(signal)) \(pid)") }
    }
}

@Suite struct FaultInjectorTests {
    @Test func killNodeKillsThenStartsAtItsTimesAndRecordsThem() async {
        let clock = VirtualClock()
        let cluster = FakeCluster(clock: clock)
        let injector = FaultInjector(control: cluster, clock: clock, origin: clock.now)
        let timeline = await injector.run(FaultPlan.steps(.killNode, duration: 20))
        #expect(cluster.calls.withLock { $0 } == ["kill node-2", "start node-2"])
        #expect(timeline.start == 5)
        // The kill command began at 5 s and took 0.7 s.
        #expect(abs((timeline.injected ?? 0) - 5.7) < 1e-9)
        #expect(timeline.undoStarted == 11)
        // The start command began at 11 s and took 0.7 s.
        #expect(abs(timeline.recovered - 11.7) < 1e-9)
        #expect(timeline.errors.isEmpty)
        #expect(timeline.marks.map(\.label) == ["cluster kill node-2", "cluster kill node-2 returned", "cluster start node-2", "cluster start node-2 returned"])
    }

    @Test func failoverIsRecoveredWhenTheCommandReturns() async {
        let clock = VirtualClock()
        let cluster = FakeCluster(clock: clock, commandTime: .milliseconds(450))
        let timeline = await FaultInjector(control: cluster, clock: clock, origin: clock.now).run(FaultPlan.steps(.dbFailover, duration: 20))
        #expect(timeline.start == 6)
        #expect(abs(timeline.recovered - 6.45) < 1e-9)
    }

    @Test func signalsGoToThePidTheStatusNames() async {
        let clock = VirtualClock()
        let cluster = FakeCluster(clock: clock)
        let timeline = await FaultInjector(control: cluster, clock: clock, origin: clock.now).run(FaultPlan.steps(.slowNode, duration: 20))
        #expect(cluster.calls.withLock { $0 } == ["SIGSTOP 202", "SIGCONT 202"])
        #expect(timeline.start == 6 && timeline.recovered == 9)
        _ = await FaultInjector(control: cluster, clock: clock, origin: clock.now).run(FaultPlan.steps(.balancerReload, duration: 10))
        #expect(cluster.calls.withLock { $0 }.suffix(2) == ["SIGHUP 100", "SIGHUP 100"])
    }

    @Test func aFailedStepIsReportedAndOnlyUndoStepsRunAfterIt() async {
        let clock = VirtualClock()
        let cluster = FakeCluster(clock: clock, failing: ["stop storage"])
        let timeline = await FaultInjector(control: cluster, clock: clock, origin: clock.now).run(FaultPlan.steps(.storageOutage, duration: 20))
        // The storage server is started again even though stopping it failed.
        #expect(cluster.calls.withLock { $0 } == ["stop storage", "start storage"])
        #expect(timeline.errors.count == 1 && timeline.errors[0].contains("cluster stop storage"))
    }

    @Test func aCancelledRunStillContinuesAFrozenNode() async {
        let clock = VirtualClock()
        let cluster = FakeCluster(clock: clock)
        let steps = FaultPlan.steps(.slowNode, duration: 20)
        let task = Task {
            // Freeze first, then get cancelled before the SIGCONT's time.
            _ = await FaultInjector(control: cluster, clock: clock, origin: clock.now).run([steps[0]])
            withUnsafeCurrentTask { $0?.cancel() }
            return await FaultInjector(control: cluster, clock: clock, origin: clock.now).run([FaultStep(at: 100, action: .cluster(["noop"])), steps[1]])
        }
        let timeline = await task.value
        #expect(cluster.calls.withLock { $0 } == ["SIGSTOP 202", "SIGCONT 202"])
        #expect(timeline.errors == ["the run was cancelled before the fault was complete"])
    }
}
