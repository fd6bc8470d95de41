import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A running Steadfast Balancer: owns the event loops, the listeners, the shared server pool,
/// the health checker and the admin listener. `steadfast balance` creates one from the
/// configuration file, calls ``start()``, ``reload(_:)`` on SIGHUP and ``shutdown()`` on SIGTERM.
public final class Balancer: Sendable {
    /// The addresses actually bound (useful when the configuration asked for port 0).
    public struct BoundAddresses: Sendable {
        public var listeners: [SocketAddress]
        public var admin: SocketAddress?

        /// `host:port` of each listener, as printed at start-up.
        public var listenerDescriptions: [String] { listeners.map(BalancerStateMachine.describe) }
        /// `host:port` of the admin listener, if any.
        public var adminDescription: String? { admin.map(BalancerStateMachine.describe) }
    }

    /// Mutable runtime bookkeeping, behind a lock.
    private struct Runtime {
        var configuration: BalancerConfiguration
        var listenerChannels: [any Channel] = []
        var adminChannel: (any Channel)?
        var clientChannels: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    private let group: MultiThreadedEventLoopGroup
    private let pool: ServerPool
    private let metrics = ProxyMetrics()
    private let loops: [ObjectIdentifier: NIOLoopBound<LoopContext>]
    private let healthChecker: HealthChecker
    private let logger: Logger
    private let runtime: Mutex<Runtime>

    public init(configuration: BalancerConfiguration, logger: Logger) async throws {
        let definitions = try Self.resolve(configuration.servers)
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        self.pool = ServerPool(
            BalancerStateMachine(
                servers: definitions,
                settings: BalancerStateMachine.Settings(configuration),
                randomSeed: UInt64.random(in: 0...UInt64.max)
            )
        )
        var loops: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
        let settings = ProxySettings(configuration)
        for loop in group.makeIterator() {
            // Made on its own loop, as NIOLoopBound requires.
            let context = try await loop.submit { [pool, metrics] in
                NIOLoopBound(LoopContext(eventLoop: loop, pool: pool, metrics: metrics, settings: settings), eventLoop: loop)
            }.get()
            loops[ObjectIdentifier(loop)] = context
        }
        self.loops = loops
        self.healthChecker = HealthChecker(group: group, pool: pool, logger: logger)
        self.runtime = Mutex(Runtime(configuration: configuration))
    }

    /// Resolves server addresses (a host name is looked up once, here, not on the hot path).
    static func resolve(_ servers: [BalancerConfiguration.Server]) throws -> [BalancerStateMachine.ServerDefinition] {
        try servers.enumerated().map { index, server in
            do {
                let address = try SocketAddress.makeAddressResolvingHost(server.host, port: server.port)
                return .init(name: server.name, address: address, weight: server.weight, backup: server.backup)
            } catch {
                throw ConfigurationError(key: "servers[\(index)].address", problem: "cannot resolve '\(server.host)': \(error)")
            }
        }
    }

    /// Binds every listener and the admin listener and starts health checks.
    public func start() async throws -> BoundAddresses {
        let configuration = runtime.withLock { $0.configuration }
        for context in loops.values {
            try await context.eventLoop.submit { context.value.start() }.get()
        }
        var listenerChannels: [any Channel] = []
        do {
            for listener in configuration.listeners {
                listenerChannels.append(try await bindListener(listener, limits: configuration.limits))
            }
            var adminChannel: (any Channel)?
            if let admin = configuration.admin {
                adminChannel = try await bindAdmin(admin, limits: configuration.limits)
            }
            runtime.withLock {
                $0.listenerChannels = listenerChannels
                $0.adminChannel = adminChannel
            }
            healthChecker.start(servers: pool.serverNames)
            return BoundAddresses(listeners: listenerChannels.compactMap(\.localAddress), admin: adminChannel?.localAddress)
        } catch {
            for channel in listenerChannels { try? await channel.close() }
            throw error
        }
    }

    private func bindListener(_ listener: BalancerConfiguration.Listener, limits: BalancerConfiguration.Limits) async throws -> any Channel {
        let sslContext = try listener.tls.map(Self.makeSSLContext)
        let scheme = sslContext == nil ? "http" : "https"
        let loops = self.loops
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let loop = loops[ObjectIdentifier(channel.eventLoop)]?.value else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    guard self.track(channel) else { throw ChannelError.ioOnClosedChannel }
                    try Self.initializeClientPipeline(channel, loop: loop, sslContext: sslContext, scheme: scheme, logger: logger)
                }
            }
            .bind(host: listener.host, port: listener.port)
            .get()
    }

    private static func makeSSLContext(_ tls: BalancerConfiguration.TLS) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        } catch {
            throw ConfigurationError(key: "listeners.tls", problem: "cannot load certificate or key: \(error)")
        }
    }

    static func initializeClientPipeline(
        _ channel: any Channel,
        loop: LoopContext,
        sslContext: NIOSSLContext?,
        scheme: String,
        logger: Logger
    ) throws {
        let limits = loop.settings.limits
        let pipeline = channel.pipeline.syncOperations
        if let sslContext { try pipeline.addHandler(NIOSSLServerHandler(context: sslContext)) }
        // One handler (after TLS, if any): the client timeouts are a helper of the connection
        // handler rather than a handler of their own, which saved a pipeline hop per read.
        let timeouts = ClientTimeouts(idleTimeout: limits.clientIdleTimeout, headerTimeout: limits.clientHeaderTimeout)
        // No HTTP codec: ClientConnectionHandler frames requests itself (HTTP1RequestParser, with
        // limits.max_header_bytes as the largest head) and writes response bytes as prepared.
        try pipeline.addHandler(ClientConnectionHandler(loop: loop, scheme: scheme, timeouts: timeouts, logger: logger))
    }

    /// Remembers an accepted client channel until it closes (for graceful shutdown).
    private func track(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let accepted = runtime.withLock { runtime -> Bool in
            guard !runtime.shuttingDown else { return false }
            runtime.clientChannels[id] = channel
            return true
        }
        guard accepted else { return false }
        channel.closeFuture.whenComplete { [self] _ in
            _ = runtime.withLock { $0.clientChannels.removeValue(forKey: id) }
        }
        return true
    }

    private func bindAdmin(_ listener: BalancerConfiguration.Listener, limits: BalancerConfiguration.Limits) async throws -> any Channel {
        let pool = self.pool
        let metrics = self.metrics
        // Read per request, so a token changed by a reload applies at once.
        let token: @Sendable () -> String? = { [self] in runtime.withLock { $0.configuration.adminToken } }
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Admin connections get the clients' idle and slowloris timeouts (on the
                    // whole request, body included); the timeouts see raw bytes, before the codec.
                    let timeouts = ClientTimeouts(idleTimeout: limits.clientIdleTimeout, headerTimeout: limits.clientHeaderTimeout)
                    try channel.pipeline.syncOperations.addHandler(AdminTimeoutHandler(timeouts: timeouts))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(pool: pool, metrics: metrics, token: token, timeouts: timeouts))
                }
            }
            .bind(host: listener.host, port: listener.port)
            .get()
    }

    /// Applies a new configuration without touching established connections: servers, weights,
    /// algorithm, health, retries and sticky settings change at once (limits apply to new client
    /// connections). Listener addresses cannot change without a restart; a change is logged and
    /// ignored. Throws (and keeps the old configuration) when a server address cannot be resolved.
    public func reload(_ configuration: BalancerConfiguration) throws {
        let definitions = try Self.resolve(configuration.servers)
        let previous = runtime.withLock { runtime -> BalancerConfiguration in
            let previous = runtime.configuration
            runtime.configuration = configuration
            return previous
        }
        if previous.listeners != configuration.listeners || previous.admin != configuration.admin
            || previous.eventLoops != configuration.eventLoops
        {
            logger.warning("listener, admin or event_loops changes need a restart; keeping the current ones")
        }
        let restarted = pool.reconfigure(servers: definitions, settings: BalancerStateMachine.Settings(configuration))
        healthChecker.start(servers: restarted)
        let settings = ProxySettings(configuration)
        let names = Set(configuration.servers.map(\.name))
        for context in loops.values {
            context.eventLoop.execute { context.value.apply(settings: settings, serverNames: names) }
        }
        logger.notice("configuration reloaded", metadata: ["lb.servers": "\(names.sorted())"])
    }

    /// Server states for callers in-process (the admin API serves the same).
    public func serverStatuses() -> [ServerStatus] {
        pool.snapshot()
    }

    /// Graceful stop: stop accepting, let in-flight requests finish (idle keep-alive connections
    /// are closed at once), then close whatever is left after the grace period.
    public func shutdown() async {
        let (listeners, admin, grace) = runtime.withLock { runtime in
            runtime.shuttingDown = true
            return (runtime.listenerChannels, runtime.adminChannel, runtime.configuration.shutdownGracePeriod)
        }
        for channel in listeners { try? await channel.close() }
        healthChecker.stop()
        let clients = runtime.withLock { Array($0.clientChannels.values) }
        for channel in clients {
            channel.eventLoop.execute {
                channel.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
        }
        // The wait ends when the last of these connections has closed (no new ones are accepted
        // now) or when the grace period has passed, timed on an event loop like the balancer's
        // other timers: no polling.
        let loop = group.next()
        let drained = loop.makePromise(of: Void.self)
        EventLoopFuture.andAllComplete(clients.map(\.closeFuture), on: loop).cascade(to: drained)
        let graceOver = loop.scheduleTask(in: grace) { drained.succeed() }
        try? await drained.futureResult.get()
        graceOver.cancel()
        for channel in runtime.withLock({ Array($0.clientChannels.values) }) { try? await channel.close() }
        if let admin { try? await admin.close() }
        for context in loops.values {
            try? await context.eventLoop.submit { context.value.stop() }.get()
        }
        try? await group.shutdownGracefully()
    }
}
