import NIOCore

/// Sits before the HTTP decoder of a client connection and enforces the two client timeouts:
/// an idle keep-alive connection is closed quietly after `idleTimeout`; a client that started a
/// request head but did not finish it within `headerTimeout` (slowloris) gets a raw 408 and is
/// closed. The ``ClientConnectionHandler`` tells it when a head arrived and when an exchange ended.
final class ClientTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Where the connection is in its request cycle.
    private enum State {
        /// Between requests, no byte of the next head seen. → `.readingHead` on bytes, → `.inExchange` on a head.
        case waitingForRequest
        /// Bytes of a head arrived; it must complete before the header deadline. → `.inExchange`.
        case readingHead
        /// A request is being proxied; the proxy's own timeouts apply. → `.waitingForRequest`.
        case inExchange
    }

    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private var state: State = .waitingForRequest
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(idleTimeout, context: context, answer408: false) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(idleTimeout, context: context, answer408: false)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .waitingForRequest = state {
            state = .readingHead
            arm(headerTimeout, context: context, answer408: true)
        }
        context.fireChannelRead(data)
    }

    /// A complete request head was decoded.
    func requestHeadReceived() {
        state = .inExchange
        timer?.cancel()
        timer = nil
    }

    /// The response to the current request is complete and the connection stays open.
    func exchangeCompleted() {
        state = .waitingForRequest
        if let context { arm(idleTimeout, context: context, answer408: false) }
    }

    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext, answer408: Bool) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.timer = nil
            guard let context = self.context, self.state != .inExchange else { return }
            if answer408 {
                var buffer = context.channel.allocator.buffer(capacity: 96)
                buffer.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                context.writeAndFlush(wrapInboundOut(buffer), promise: nil)
            }
            context.close(promise: nil)
        }
    }
}
