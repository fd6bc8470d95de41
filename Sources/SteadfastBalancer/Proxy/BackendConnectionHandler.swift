import NIOCore
import NIOHTTP1

/// The last handler of a keep-alive connection to one backend server; the connection object the
/// per-loop ``BackendConnectionPool`` hands out. While a ``ClientConnectionHandler`` has it
/// attached, response parts go straight to that client handler (same event loop), and reads
/// from the backend are only requested while the client can take more bytes (back-pressure).
/// While idle in the pool it watches for the backend closing it.
final class BackendConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The life of one backend connection.
    private enum State {
        /// Connected, not yet handed out or back in the pool. → `.attached`, → `.closed`.
        case idle
        /// Carrying one client's exchange. → `.idle` when it is released, → `.closed`.
        case attached(ClientConnectionHandler)
        /// Closed or closing; never reused.
        case closed
    }

    private var state: State = .idle
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// The server this connection goes to.
    let serverName: String
    /// When it was last put back in the pool.
    var idleSince: NIODeadline = .now()

    init(serverName: String) {
        self.serverName = serverName
    }

    var isActive: Bool {
        if case .closed = state { return false }
        return context?.channel.isActive ?? false
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Used by the client handler (same event loop)

    func attach(_ client: ClientConnectionHandler) {
        state = .attached(client)
    }

    /// The exchange is over; the connection stays open for the pool.
    func detach() {
        if case .attached = state { state = .idle }
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(part), promise: promise)
    }

    func flush() {
        context?.flush()
    }

    /// The client can take bytes again: resume reading from the backend.
    func clientBecameWritable() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func close() {
        if case .closed = state { return }
        state = .closed
        context?.close(promise: nil)
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .attached(let client):
            client.backendReceived(part, from: self)
        case .idle:
            // A backend must not talk on an idle connection; it is unusable now.
            close()
        case .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .attached(let client) = state { client.backendReadComplete() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .attached(let client) = state { client.backendWritabilityChanged(isWritable: context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        if case .attached(let client) = previous { client.backendClosed(self, error: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let previous = state
        state = .closed
        if case .attached(let client) = previous { client.backendClosed(self, error: error) }
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if case .attached(let client) = state, !client.canTakeResponseBytes {
            pendingRead = true
            return
        }
        context.read()
    }
}
