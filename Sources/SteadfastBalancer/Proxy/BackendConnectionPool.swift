import NIOCore
import NIOPosix

/// Keep-alive connections from one event loop to one backend server: hands out an idle one
/// (most recently used first) or opens a new one on the same loop, so the client and backend
/// channels of an exchange always share a loop. Used only on its event loop.
final class BackendConnectionPool {
    let serverName: String
    let address: SocketAddress
    private let eventLoop: any EventLoop
    private var idle: [BackendConnectionHandler] = []

    init(serverName: String, address: SocketAddress, eventLoop: any EventLoop) {
        self.serverName = serverName
        self.address = address
        self.eventLoop = eventLoop
    }

    /// An open idle connection, if there is one.
    func takeIdle() -> BackendConnectionHandler? {
        while let connection = idle.popLast() {
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Opens a new connection (not pooled until released).
    func connect(timeout: TimeAmount) -> EventLoopFuture<BackendConnectionHandler> {
        let name = serverName
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No HTTP codec: request bytes come prepared by the client handler (from heads
                    // HTTP1RequestParser validated), responses are framed by the handler itself.
                    try channel.pipeline.syncOperations.addHandler(BackendConnectionHandler(serverName: name))
                }
            }
            .connect(to: address)
            .flatMapThrowing { channel in
                try channel.pipeline.syncOperations.handler(type: BackendConnectionHandler.self)
            }
    }

    /// Puts a connection back after a complete exchange, or closes it when the pool is full.
    func release(_ connection: BackendConnectionHandler, maxIdle: Int) {
        guard connection.isActive else {
            connection.close()
            return
        }
        guard idle.count < maxIdle else {
            connection.close()
            return
        }
        connection.idleSince = .now()
        idle.append(connection)
    }

    /// Closes connections idle since before `cutoff` and forgets ones the backend closed.
    /// (Closed ones are also skipped by ``takeIdle()``, so this only bounds memory.)
    func closeIdle(before cutoff: NIODeadline) {
        let expired = idle.filter { $0.idleSince < cutoff }
        idle.removeAll { $0.idleSince < cutoff || !$0.isActive }
        for connection in expired { connection.close() }
    }

    func closeAll() {
        let all = idle
        idle.removeAll()
        for connection in all { connection.close() }
    }
}
