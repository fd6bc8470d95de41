import SteadfastCluster
import Testing

/// The rolling restart's decisions, driven by hand: events in, actions out, time passed in.
struct RollingRestartMachineTests {
    typealias Machine = RollingRestartMachine

    /// Answers every check the happy way and records the actions.
    static func run(_ machine: inout Machine, answer: (Machine.Action) -> Machine.Event, now: (Int) -> Duration = { .milliseconds($0 * 100) }) -> [Machine.Action] {
        var actions: [Machine.Action] = []
        var action = machine.handle(.begin, now: .zero)
        var step = 0
        while true {
            actions.append(action)
            if action == .finished { return actions }
            if case .failed = action { return actions }
            step += 1
            guard step < 1000 else { return actions }
            action = machine.handle(answer(action), now: now(step))
        }
    }

    static func happy(_ action: Machine.Action) -> Machine.Event {
        switch action {
        case .setBalancerState: .balancerStateSet
        case .checkActiveRequests: .activeRequests(0)
        case .checkRunningJobs: .runningJobs(0)
        case .stop: .stopped
        case .start: .started
        case .checkNodeReady: .nodeReady(true)
        case .checkBalancerHealth: .balancerHealthUp(true)
        case .finished, .failed: .begin
        }
    }

    @Test func eachNodeIsTakenOutRestartedAndReadmittedBeforeTheNext() {
        var machine = Machine(nodes: ["node-1", "node-2"])
        let actions = Self.run(&machine, answer: Self.happy)
        let perNode: (String) -> [Machine.Action] = { node in [
            .setBalancerState(node: node, .drain), .checkActiveRequests(node: node, after: .zero), .setBalancerState(node: node, .maint),
            .checkActiveRequests(node: node, after: .zero), .checkRunningJobs(node: node, after: .zero), .stop(node: node), .start(node: node),
            .checkNodeReady(node: node, after: .zero), .checkBalancerHealth(node: node, after: .zero), .setBalancerState(node: node, .ready),
        ] }
        #expect(actions == perNode("node-1") + perNode("node-2") + [.finished])
        #expect(machine.notes.isEmpty)
    }

    @Test func itWaitsForInFlightRequestsAndJobsThenStops() {
        var machine = Machine(nodes: ["node-1"])
        var requests = [3, 1, 0, 2, 0]  // drain: 3, 1, 0; maint: 2, 0
        var jobs = [1, 1, 0]
        let actions = Self.run(&machine) { action in
            switch action {
            case .checkActiveRequests: .activeRequests(requests.removeFirst())
            case .checkRunningJobs: .runningJobs(jobs.removeFirst())
            default: Self.happy(action)
            }
        }
        #expect(requests.isEmpty && jobs.isEmpty)
        guard let stopIndex = actions.firstIndex(of: .stop(node: "node-1")) else { Issue.record("never stopped: \(actions)"); return }
        let checksBeforeStop = actions[..<stopIndex].filter { if case .checkActiveRequests = $0 { true } else { false } }
        #expect(checksBeforeStop.count == 5)
        #expect(actions[..<stopIndex].contains(.setBalancerState(node: "node-1", .maint)))
        #expect(actions.last == .finished && machine.notes.isEmpty)
        // Re-checks wait the poll interval; the first check of a phase does not.
        #expect(actions.contains(.checkActiveRequests(node: "node-1", after: machine.timing.poll)))
    }

    @Test func requestsThatNeverEndDoNotBlockForeverButAreNoted() {
        var timing = Machine.Timing()
        timing.quiesce = .seconds(2)
        var machine = Machine(nodes: ["node-1"], timing: timing)
        let actions = Self.run(&machine) { action in
            if case .checkActiveRequests = action { return .activeRequests(1) }
            return Self.happy(action)
        }
        #expect(actions.contains(.stop(node: "node-1")) && actions.last == .finished)
        #expect(machine.notes.count == 2)
        #expect(machine.notes[0].contains("still in flight"))
    }

    @Test func aNodeThatNeverBecomesReadyFailsTheRestartAndTheNextIsUntouched() {
        var timing = Machine.Timing()
        timing.ready = .seconds(5)
        var machine = Machine(nodes: ["node-1", "node-2"], timing: timing)
        let actions = Self.run(&machine) { action in
            if case .checkNodeReady = action { return .nodeReady(false) }
            return Self.happy(action)
        }
        guard case .failed(let reason) = actions.last else { Issue.record("did not fail: \(actions.last!)"); return }
        #expect(reason.contains("node-1") && reason.contains("not ready"))
        #expect(!actions.contains { if case .setBalancerState(node: "node-2", _) = $0 { true } else { false } })
        // node-1 stays out of rotation: never set back to ready.
        #expect(!actions.contains(.setBalancerState(node: "node-1", .ready)))
    }

    @Test func aNodeIsReadmittedOnlyOnceTheBalancerSeesItHealthy() throws {
        var machine = Machine(nodes: ["node-1"])
        var health = [false, false, true]
        let actions = Self.run(&machine) { action in
            if case .checkBalancerHealth = action { return .balancerHealthUp(health.removeFirst()) }
            return Self.happy(action)
        }
        let checks = actions.filter { if case .checkBalancerHealth = $0 { true } else { false } }
        #expect(checks.count == 3)
        let lastCheck = try #require(actions.lastIndex { if case .checkBalancerHealth = $0 { true } else { false } })
        #expect(actions[lastCheck + 1] == .setBalancerState(node: "node-1", .ready))
    }

    @Test func aFailedOperationEndsTheRestart() {
        var machine = Machine(nodes: ["node-1", "node-2"])
        let actions = Self.run(&machine) { action in
            if case .stop = action { return .operationFailed("node-1 did not stop") }
            return Self.happy(action)
        }
        #expect(actions.last == .failed("node-1 did not stop"))
        #expect(machine.handle(.started, now: .seconds(100)) == .failed("node-1 did not stop"))
    }

    @Test func anUnexpectedEventFails() {
        var machine = Machine(nodes: ["node-1"])
        _ = machine.handle(.begin, now: .zero)
        guard case .failed(let reason) = machine.handle(.stopped, now: .zero) else { Issue.record("accepted"); return }
        #expect(reason.contains("unexpected"))
    }
}
