import HummingbirdCore
import Logging
import NIOCore
import SteadfastConcurrency

/// A server child channel whose whole handling — reading requests, the responder, writing
/// responses — runs on the connection's own event loop (``EventLoopExecutor``) instead of on
/// Swift Concurrency's shared pool, so a request does not cross between threads on its way in
/// and out, nor (with the PostgreSQL engine's lessors on their connections' loops) for its
/// statements. Tasks a handler starts in a group or with `async let` run there too; a
/// `Task {}` does not. Handlers must not block: what may block already runs on thread pools.
struct EventLoopBoundChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 (Hummingbird's `HTTP1Channel`) with each connection handled on its event loop.
    package static func http1OnEventLoop(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            EventLoopBoundChannel(base: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
