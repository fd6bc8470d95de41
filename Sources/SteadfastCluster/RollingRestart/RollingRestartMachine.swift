import SteadfastDomain

/// The decisions of `cluster rolling-restart`, without I/O: events in, one action out, time
/// passed in (`now`, time since the restart began). The driver (``ClusterController``) carries
/// out each action and reports the outcome as the next event.
///
/// Per node, in order, never more than one node out of rotation:
///
/// | Phase | Action | Event | Next |
/// | --- | --- | --- | --- |
/// | `draining` | `.setBalancerState(drain)` | `.balancerStateSet` | `quiescing` |
/// | `quiescing` | `.checkActiveRequests` | `.activeRequests(0)` or quiesce time over | `maintenance` |
/// | `maintenance` | `.setBalancerState(maint)` | `.balancerStateSet` | `settling` |
/// | `settling` | `.checkActiveRequests` | `.activeRequests(0)` or quiesce time over | `waitingForJobs` |
/// | `waitingForJobs` | `.checkRunningJobs` | `.runningJobs(0)` or jobs time over | `stopping` |
/// | `stopping` | `.stop` | `.stopped` | `starting` |
/// | `starting` | `.start` | `.started` | `waitingForNode` |
/// | `waitingForNode` | `.checkNodeReady` | `.nodeReady(true)` | `waitingForBalancer`; ready time over → `.failed` |
/// | `waitingForBalancer` | `.checkBalancerHealth` | `.balancerHealthUp(true)` | `readmitting`; ready time over → `.failed` |
/// | `readmitting` | `.setBalancerState(ready)` | `.balancerStateSet` | the next node's `draining`, or `.finished` |
///
/// `drain` lets sticky clients finish on the node; `maint` then sends nobody, so a node whose
/// sticky clients never pause still gets to zero requests. A node is started again before the
/// next one is touched and only readmitted once the balancer itself sees it healthy, so at least
/// N−1 nodes serve at every moment. Any `.operationFailed` ends the run with `.failed`.
public struct RollingRestartMachine: Sendable, Equatable {
    public enum Phase: String, Sendable, Equatable {
        case draining, quiescing, maintenance, settling, waitingForJobs, stopping, starting, waitingForNode, waitingForBalancer, readmitting
    }

    public enum BalancerState: String, Sendable, Equatable {
        case ready, drain, maint
    }

    public enum Event: Sendable, Equatable {
        case begin
        case balancerStateSet
        case activeRequests(Int)
        case runningJobs(Int)
        case stopped
        case started
        case nodeReady(Bool)
        case balancerHealthUp(Bool)
        case operationFailed(String)
    }

    public enum Action: Sendable, Equatable {
        case setBalancerState(node: String, BalancerState)
        /// Ask the balancer for the node's in-flight requests, after waiting `after`.
        case checkActiveRequests(node: String, after: Duration)
        /// Ask the database for the node's running jobs, after waiting `after`.
        case checkRunningJobs(node: String, after: Duration)
        case stop(node: String)
        case start(node: String)
        case checkNodeReady(node: String, after: Duration)
        case checkBalancerHealth(node: String, after: Duration)
        /// Every node was restarted.
        case finished
        case failed(String)
    }

    public struct Timing: Sendable, Equatable {
        /// Longest wait for a node's in-flight requests to reach 0 (drain, then again in maint);
        /// after it the node is stopped anyway (it finishes in-flight requests on SIGTERM).
        public var quiesce: Duration = .seconds(30)
        /// Longest wait for a node's running jobs; after it the node is stopped anyway (it gives
        /// running jobs `jobs.shutdown_grace`, then hands their slots to another node).
        public var jobs: Duration = .seconds(30)
        /// Longest wait for a restarted node to be ready, and again for the balancer to see it.
        public var ready: Duration = .seconds(120)
        /// Time between checks.
        public var poll: Duration = .milliseconds(100)
        public init() {}
    }

    public let nodes: [String]
    public let timing: Timing
    public private(set) var index = 0
    public private(set) var phase: Phase = .draining
    public private(set) var phaseStarted: Duration = .zero
    /// `.finished` or `.failed` once the restart is over; every later event gets it again.
    public private(set) var outcome: Action?
    /// Waits that ran out without the condition (for the report).
    public private(set) var notes: [String] = []

    public init(nodes: [String], timing: Timing = Timing()) {
        self.nodes = nodes
        self.timing = timing
    }

    public var currentNode: String? { index < nodes.count ? nodes[index] : nil }

    /// Feeds one event; returns what to do next.
    public mutating func handle(_ event: Event, now: Duration) -> Action {
        if let outcome { return outcome }
        if case .operationFailed(let reason) = event { return fail(reason) }
        guard let node = currentNode else { return finish() }
        let elapsed = now - phaseStarted
        switch (phase, event) {
        case (.draining, .begin):
            return .setBalancerState(node: node, .drain)
        case (.draining, .balancerStateSet):
            return enter(.quiescing, now) { .checkActiveRequests(node: node, after: .zero) }
        case (.quiescing, .activeRequests(let count)):
            if count == 0 || elapsed >= timing.quiesce {
                if count > 0 { notes.append("\(node): \(count) requests still in flight after \(DurationText.format(timing.quiesce)) of drain; taking it out anyway") }
                return enter(.maintenance, now) { .setBalancerState(node: node, .maint) }
            }
            return .checkActiveRequests(node: node, after: timing.poll)
        case (.maintenance, .balancerStateSet):
            return enter(.settling, now) { .checkActiveRequests(node: node, after: .zero) }
        case (.settling, .activeRequests(let count)):
            if count == 0 || elapsed >= timing.quiesce {
                if count > 0 { notes.append("\(node): \(count) requests still in flight in maintenance; the node finishes them on SIGTERM") }
                return enter(.waitingForJobs, now) { .checkRunningJobs(node: node, after: .zero) }
            }
            return .checkActiveRequests(node: node, after: timing.poll)
        case (.waitingForJobs, .runningJobs(let count)):
            if count == 0 || elapsed >= timing.jobs {
                if count > 0 { notes.append("\(node): \(count) jobs still running after \(DurationText.format(timing.jobs)); the node hands them over on SIGTERM") }
                return enter(.stopping, now) { .stop(node: node) }
            }
            return .checkRunningJobs(node: node, after: timing.poll)
        case (.stopping, .stopped):
            return enter(.starting, now) { .start(node: node) }
        case (.starting, .started):
            return enter(.waitingForNode, now) { .checkNodeReady(node: node, after: .zero) }
        case (.waitingForNode, .nodeReady(let ready)):
            if ready { return enter(.waitingForBalancer, now) { .checkBalancerHealth(node: node, after: .zero) } }
            return timedOut(elapsed) ? fail("\(node) was not ready within \(DurationText.format(timing.ready)) of its restart") : .checkNodeReady(node: node, after: timing.poll)
        case (.waitingForBalancer, .balancerHealthUp(let up)):
            if up { return enter(.readmitting, now) { .setBalancerState(node: node, .ready) } }
            return timedOut(elapsed) ? fail("the balancer did not see \(node) healthy within \(DurationText.format(timing.ready))") : .checkBalancerHealth(node: node, after: timing.poll)
        case (.readmitting, .balancerStateSet):
            index += 1
            guard let next = currentNode else { return finish() }
            return enter(.draining, now) { .setBalancerState(node: next, .drain) }
        default:
            return fail("rolling restart: unexpected \(event) while \(phase.rawValue) \(node)")
        }
    }

    private func timedOut(_ elapsed: Duration) -> Bool { elapsed >= timing.ready }

    private mutating func enter(_ next: Phase, _ now: Duration, _ action: () -> Action) -> Action {
        phase = next
        phaseStarted = now
        return action()
    }

    private mutating func fail(_ reason: String) -> Action {
        outcome = .failed(reason)
        return .failed(reason)
    }

    private mutating func finish() -> Action {
        outcome = .finished
        return .finished
    }
}
