import NIOCore

/// The only handler of a keep-alive connection to one backend server; the connection object the
/// per-loop ``BackendConnectionPool`` hands out. It frames the backend's bytes with an
/// ``HTTP1ResponseParser`` (no HTTP codec in the pipeline: request bytes are written as the
/// client handler prepared them). While a ``ClientConnectionHandler`` has it attached, response
/// events go straight to that client handler (same event loop), and reads from the backend are
/// only requested while the client can take more bytes (back-pressure). While idle in the pool
/// it watches for the backend closing it.
final class BackendConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

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
    /// The channel, kept from `handlerAdded` to `handlerRemoved`: asked for activity and
    /// writability on every exchange, which through `context.channel` costs a pipeline lookup.
    private var channel: (any Channel)?
    private var pendingRead = false
    private var parser = HTTP1ResponseParser()
    /// Bytes of a response head that arrived before the rest of it.
    private var inbound: ByteBuffer?
    /// The backend sent bytes after a complete response: the connection is not reused.
    private var spoiled = false
    /// The server this connection goes to.
    let serverName: String
    /// When it was last put back in the pool.
    var idleSince: NIODeadline = .now()

    init(serverName: String) {
        self.serverName = serverName
    }

    var isActive: Bool {
        if spoiled { return false }
        if case .closed = state { return false }
        return channel?.isActive ?? false
    }

    var isWritable: Bool { channel?.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.channel = context.channel
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.channel = nil
    }

    // MARK: Used by the client handler (same event loop)

    /// Hands the connection to `client` for one exchange; `toHEAD`: the response has no body.
    func attach(_ client: ClientConnectionHandler, toHEAD: Bool) {
        state = .attached(client)
        parser.expectResponse(toHEAD: toHEAD)
    }

    /// The exchange is over; the connection stays open for the pool.
    func detach() {
        if case .attached = state { state = .idle }
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func write(_ bytes: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(bytes), promise: promise)
    }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

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
        var buffer = unwrapInboundIn(data)
        guard case .attached = state else {
            // A backend must not talk on an idle connection; it is unusable now.
            if case .idle = state { close() }
            return
        }
        if var pending = inbound {
            inbound = nil
            pending.writeBuffer(&buffer)
            buffer = pending
        }
        let now = NIODeadline.now()
        while case .attached(let client) = state {
            let event: HTTP1ResponseParser.Event?
            do {
                event = try parser.next(&buffer)
            } catch {
                return fail(error)
            }
            guard let event else {
                if parser.isIdle {
                    // Bytes nobody asked for (or none left): a connection with stray bytes is not reused.
                    if buffer.readableBytes > 0 { spoiled = true }
                } else if buffer.readableBytes > 0 {
                    inbound = buffer
                }
                return
            }
            if case .end = event, buffer.readableBytes > 0 {
                // Bytes after the response's end: the client handler must not pool this connection.
                spoiled = true
            }
            client.backendReceived(event, from: self, bodyEndsWithConnection: parser.bodyEndsWithConnection, now: now)
            if spoiled {
                close()
                return
            }
        }
    }

    /// A framing error in the backend's response: the connection is broken for the exchange.
    private func fail(_ error: any Error) {
        let previous = state
        state = .closed
        inbound = nil
        if case .attached(let client) = previous { client.backendClosed(self, error: error) }
        context?.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .attached(let client) = state { client.backendReadComplete() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .attached(let client) = state { client.backendWritabilityChanged(isWritable: context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .attached(let client) = state, parser.bodyEndsWithConnection {
            // The close is the end of a body delimited by it.
            if let event = try? parser.endOfInput() {
                client.backendReceived(event, from: self, bodyEndsWithConnection: true, now: .now())
            }
        }
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
