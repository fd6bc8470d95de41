import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Runs the active health checks: one self-rescheduling check loop per server, spread over the
/// event loops. Each result goes into the ``ServerPool`` (the ``HealthStateMachine`` inside
/// decides), which also says when to check next. A reload restarts the loops of new or moved
/// servers; loops of removed servers end by themselves.
final class HealthChecker: Sendable {
    private let group: any EventLoopGroup
    private let pool: ServerPool
    private let logger: Logger
    /// Current generation per server; a loop whose generation is stale stops.
    private let generations = Mutex<[String: Int]>([:])
    private let stopped = Mutex(false)

    init(group: any EventLoopGroup, pool: ServerPool, logger: Logger) {
        self.group = group
        self.pool = pool
        self.logger = logger
    }

    /// Starts (or restarts) the check loops of `servers`; the first check runs at once.
    func start(servers: [String]) {
        for name in servers {
            let generation = generations.withLock { generations -> Int in
                let next = (generations[name] ?? 0) + 1
                generations[name] = next
                return next
            }
            let loop = group.next()
            loop.execute { self.check(name, generation: generation, on: loop) }
        }
    }

    func stop() {
        stopped.withLock { $0 = true }
    }

    private func isCurrent(_ name: String, _ generation: Int) -> Bool {
        !stopped.withLock { $0 } && generations.withLock { $0[name] == generation }
    }

    private func check(_ name: String, generation: Int, on loop: any EventLoop) {
        guard isCurrent(name, generation), let target = pool.healthCheckTarget(server: name) else { return }
        probe(target.address, check: target.check, on: loop).whenComplete { result in
            guard self.isCurrent(name, generation) else { return }
            let checkResult: HealthStateMachine.CheckResult
            switch result {
            case .success(let status) where status == target.check.expectedStatus: checkResult = .passed
            case .success(503): checkResult = .drainRequested
            case .success, .failure: checkResult = .failed
            }
            let action = self.pool.healthCheckCompleted(server: name, result: checkResult)
            if let transition = action.transition {
                self.logger.notice("server health changed", metadata: ["lb.backend": "\(name)", "lb.transition": "\(transition)"])
            }
            guard let next = action.nextCheckIn else { return }
            loop.scheduleTask(in: next) { self.check(name, generation: generation, on: loop) }
        }
    }

    private func probe(_ address: SocketAddress, check: BalancerConfiguration.HealthCheck, on loop: any EventLoop) -> EventLoopFuture<Int> {
        let result = loop.makePromise(of: Int.self)
        let host = BalancerStateMachine.describe(address)
        let timeout = loop.scheduleTask(in: check.timeout) {
            result.fail(ChannelError.connectTimeout(check.timeout))
        }
        ClientBootstrap(group: loop)
            .connectTimeout(check.timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HealthProbeHandler(path: check.path, host: host, result: result))
                }
            }
            .connect(to: address)
            .whenComplete { connected in
                switch connected {
                case .success(let channel):
                    result.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error):
                    result.fail(error)
                }
            }
        result.futureResult.whenComplete { _ in timeout.cancel() }
        return result.futureResult
    }
}
