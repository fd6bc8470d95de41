import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Runs the active health checks: one self-rescheduling check loop per server, spread over the
/// event loops. Each result goes into the ``ServerPool`` (the ``HealthStateMachine`` inside
/// decides), which also says when to check next. A reload restarts the loops of new or moved
/// servers; loops of removed servers end by themselves.
///
/// Its clock is the event loop's: checks are scheduled on the loop, and each result reaches the
/// pool with the loop's `now` (what starts a returning server's slow start). On the real loops
/// that is `NIODeadline.now()`; on an `EmbeddedEventLoop` a test moves it with `advanceTime`,
/// so check intervals, draining and recovery are driven without waiting.
final class HealthChecker: Sendable {
    /// Asks `address` for `check.path` on `loop`: the status it answered, or a failure (connect
    /// error, broken connection, no answer within `check.timeout`).
    typealias Probe = @Sendable (_ address: SocketAddress, _ check: BalancerConfiguration.HealthCheck, _ loop: any EventLoop) -> EventLoopFuture<Int>

    private let group: any EventLoopGroup
    private let pool: ServerPool
    private let logger: Logger
    private let probe: Probe
    /// Current generation per server; a loop whose generation is stale stops.
    private let generations = Mutex<[String: Int]>([:])
    private let stopped = Mutex(false)

    init(group: any EventLoopGroup, pool: ServerPool, logger: Logger, probe: @escaping Probe = HealthChecker.httpProbe) {
        self.group = group
        self.pool = pool
        self.logger = logger
        self.probe = probe
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
        probe(target.address, target.check, loop).whenComplete { result in
            guard self.isCurrent(name, generation) else { return }
            let checkResult: HealthStateMachine.CheckResult
            switch result {
            case .success(let status) where status == target.check.expectedStatus: checkResult = .passed
            case .success(503): checkResult = .drainRequested
            case .success, .failure: checkResult = .failed
            }
            let action = self.pool.healthCheckCompleted(server: name, result: checkResult, now: loop.now)
            if let transition = action.transition {
                self.logger.notice("server health changed", metadata: ["lb.backend": "\(name)", "lb.transition": "\(transition)"])
            }
            guard let next = action.nextCheckIn else { return }
            loop.scheduleTask(in: next) { self.check(name, generation: generation, on: loop) }
        }
    }

    /// The real probe: `GET check.path` over a new connection, bounded by `check.timeout`.
    static func httpProbe(_ address: SocketAddress, check: BalancerConfiguration.HealthCheck, on loop: any EventLoop) -> EventLoopFuture<Int> {
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
