import Foundation
import SteadfastDomain

/// How the chaos command reaches the cluster. The real one runs `steadfast cluster ...`
/// (``ClusterCLI``); tests drive the injector with a fake.
public protocol ClusterControl: Sendable {
    /// `cluster status --json`.
    func status() async throws -> ClusterStatus
    /// A `cluster` subcommand, e.g. `["kill", "node-2"]`; throws when it exits non-zero.
    func run(_ arguments: [String]) async throws
    /// Sends `signal` to a component's process.
    func signal(_ signal: Int32, pid: Int32) throws
}

/// One step of a fault: what to do, and when (seconds after the load started).
public struct FaultStep: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// `steadfast cluster ARGUMENTS`.
        case cluster([String])
        /// A signal to a component's pid (read from `cluster status` at that moment).
        case signal(Int32, component: String)
    }

    public var at: Double
    public var action: Action
    /// An undo step (start again, SIGCONT) runs even when an earlier step failed or the run was cancelled.
    public var undo: Bool

    public init(at: Double, action: Action, undo: Bool = false) {
        self.at = at
        self.action = action
        self.undo = undo
    }

    public var label: String {
        switch action {
        case .cluster(let arguments): "cluster " + arguments.joined(separator: " ")
        case .signal(let signal, let component): "\(FaultPlan.signalName(signal)) \(component)"
        }
    }
}

/// Which steps each scenario takes over a load of `duration` seconds.
public enum FaultPlan {
    /// The node the single-node faults pick.
    public static let victim = "node-2"

    public static func steps(_ scenario: Scenario, duration: Double) -> [FaultStep] {
        switch scenario {
        case .killNode:
            [FaultStep(at: duration * 0.25, action: .cluster(["kill", victim])),
             FaultStep(at: duration * 0.55, action: .cluster(["start", victim]), undo: true)]
        case .rollingRestart:
            [FaultStep(at: duration * 0.15, action: .cluster(["rolling-restart"]))]
        case .dbFailover:
            [FaultStep(at: duration * 0.3, action: .cluster(["failover"]))]
        case .storageOutage:
            [FaultStep(at: duration * 0.25, action: .cluster(["stop", "storage"])),
             FaultStep(at: duration * 0.55, action: .cluster(["start", "storage"]), undo: true)]
        case .balancerReload:
            [FaultStep(at: duration * 0.3, action: .signal(SIGHUP, component: "balancer")),
             FaultStep(at: duration * 0.6, action: .signal(SIGHUP, component: "balancer"))]
        case .slowNode:
            [FaultStep(at: duration * 0.3, action: .signal(SIGSTOP, component: victim)),
             FaultStep(at: duration * 0.3 + max(3, duration * 0.15), action: .signal(SIGCONT, component: victim), undo: true)]
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: "SIGHUP"
        case SIGSTOP: "SIGSTOP"
        case SIGCONT: "SIGCONT"
        case SIGKILL: "SIGKILL"
        default: "signal \(signal)"
        }
    }
}

/// Runs a scenario's steps at their times on an injected clock and records when each happened.
/// The fault starts when the first step starts and is recovered when the last step returns.
public struct FaultInjector<C: Clock>: Sendable where C.Duration == Duration {
    let control: any ClusterControl
    let clock: C
    /// The instant the load started: every time in the timeline is measured from it.
    let origin: C.Instant

    public init(control: any ClusterControl, clock: C, origin: C.Instant) {
        self.control = control
        self.clock = clock
        self.origin = origin
    }

    func elapsed() -> Double {
        origin.duration(to: clock.now).totalSeconds
    }

    public func run(_ steps: [FaultStep]) async -> FaultTimeline {
        var timeline = FaultTimeline(start: steps.first?.at ?? 0, recovered: steps.first?.at ?? 0)
        var failed = false
        var skippedByCancellation = false
        for (index, step) in steps.enumerated() {
            if failed || Task.isCancelled {
                // Undo steps still run, at once: a frozen node must not stay frozen.
                skippedByCancellation = skippedByCancellation || (!failed && !step.undo)
                guard step.undo else { continue }
            } else {
                do {
                    try await clock.sleep(until: origin.advanced(by: .seconds(step.at)), tolerance: nil)
                } catch {
                    skippedByCancellation = skippedByCancellation || !step.undo
                    guard step.undo else { continue }
                }
            }
            let started = elapsed()
            if index == 0 { timeline.start = started }
            if step.undo, timeline.undoStarted == nil { timeline.undoStarted = started }
            timeline.marks.append(.init(at: started, label: step.label))
            do {
                try await perform(step.action)
            } catch {
                failed = true
                timeline.errors.append("\(step.label): \(error)")
            }
            timeline.recovered = elapsed()
            if index == 0 { timeline.injected = timeline.recovered }
            if index == steps.count - 1 || index == 0 {
                timeline.marks.append(.init(at: timeline.recovered, label: "\(step.label) returned"))
            }
        }
        if skippedByCancellation {
            timeline.errors.append("the run was cancelled before the fault was complete")
        }
        return timeline
    }

    func perform(_ action: FaultStep.Action) async throws {
        switch action {
        case .cluster(let arguments):
            try await control.run(arguments)
        case .signal(let signal, let name):
            let status = try await control.status()
            guard let pid = status.component(name)?.pid, pid > 0 else {
                throw ChaosError("cluster status names no running process for \(name)")
            }
            try control.signal(signal, pid: pid)
        }
    }
}
