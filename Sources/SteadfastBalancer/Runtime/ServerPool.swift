import NIOCore
import Synchronization

/// The one shared ``BalancerStateMachine`` of a running balancer, behind a `Mutex`, used by every
/// event loop, the health checker and the admin API. Each method is one short critical section
/// with no I/O inside; callers perform the resulting actions themselves.
final class ServerPool: Sendable {
    private let machine: Mutex<BalancerStateMachine>

    init(_ machine: BalancerStateMachine) {
        self.machine = Mutex(machine)
    }

    func pickServer(sticky: String?, excluding: [String], isRetry: Bool, now: NIODeadline = .now()) -> BalancerStateMachine.PickAction {
        return machine.withLock { $0.pickServer(now: now, sticky: sticky, excluding: excluding, isRetry: isRetry) }
    }

    func requestFinished(
        server: String,
        outcome: BalancerStateMachine.RequestOutcome,
        now: NIODeadline = .now()
    ) -> BalancerStateMachine.FinishAction {
        return machine.withLock { $0.requestFinished(server: server, outcome: outcome, now: now) }
    }

    func tryWithdrawRetry() -> Bool {
        let now = NIODeadline.now()
        return machine.withLock { $0.tryWithdrawRetry(now: now) }
    }

    /// `now` is the checking event loop's time (see ``HealthChecker``).
    func healthCheckCompleted(server: String, result: HealthStateMachine.CheckResult, now: NIODeadline) -> BalancerStateMachine.HealthCheckAction {
        machine.withLock { $0.healthCheckCompleted(server: server, result: result, now: now) }
    }

    func setAdminState(server: String, to state: ServerAdminState) -> BalancerStateMachine.AdminResult {
        let now = NIODeadline.now()
        return machine.withLock { $0.setAdminState(server: server, to: state, now: now) }
    }

    func setWeight(server: String, to weight: Int) -> BalancerStateMachine.AdminResult {
        let now = NIODeadline.now()
        return machine.withLock { $0.setWeight(server: server, to: weight, now: now) }
    }

    func reconfigure(servers: [BalancerStateMachine.ServerDefinition], settings: BalancerStateMachine.Settings) -> [String] {
        machine.withLock { $0.reconfigure(servers: servers, settings: settings) }
    }

    /// Where and how to check `server`, or `nil` once it is no longer configured.
    func healthCheckTarget(server: String) -> (address: SocketAddress, check: BalancerConfiguration.HealthCheck)? {
        machine.withLock { machine in
            machine.definition(named: server).map { ($0.address, machine.settings.health) }
        }
    }

    var serverNames: [String] { machine.withLock { $0.serverNames } }

    func snapshot(now: NIODeadline = .now()) -> [ServerStatus] {
        machine.withLock { $0.snapshot(now: now) }
    }
}
