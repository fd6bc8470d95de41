import NIOCore

/// Sits before the HTTP decoder of a client connection and enforces the two client timeouts:
/// an idle keep-alive connection is closed quietly after `idleTimeout`; a client that started a
/// request head but did not finish it within `headerTimeout` (slowloris) gets a raw 408 and is
/// closed. The ``ClientConnectionHandler`` tells it when a head arrived and when an exchange
/// ended. One lazily re-armed timer per connection (never one per request): when it fires it
/// compares the current deadline with the clock and sleeps again if time remains.
final class ClientTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Where the connection is in its request cycle.
    private enum State {
        /// Between requests, no byte of the next head seen. → `.readingHead` on bytes,
        /// → `.inExchange` on a head. Deadline: the idle timeout.
        case waitingForRequest
        /// Bytes of a head arrived; it must complete before the header deadline. → `.inExchange`.
        case readingHead
        /// A request is being proxied; the proxy's own timeouts apply. → `.waitingForRequest`.
        case inExchange
    }

    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private var state: State = .waitingForRequest
    private var deadline: NIODeadline = .distantFuture
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { waitForRequest() }
    }

    func channelActive(context: ChannelHandlerContext) {
        waitForRequest()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
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
            deadline = .now() + headerTimeout
            ensureTimer(fireAt: deadline)
        }
        context.fireChannelRead(data)
    }

    /// A complete request head was decoded.
    func requestHeadReceived() {
        state = .inExchange
    }

    /// The response to the current request is complete and the connection stays open.
    func exchangeCompleted() {
        waitForRequest()
    }

    private func waitForRequest() {
        state = .waitingForRequest
        deadline = .now() + idleTimeout
        // Wake at least every header timeout, so a head starting later is still caught in time.
        ensureTimer(fireAt: min(deadline, .now() + headerTimeout))
    }

    private func ensureTimer(fireAt: NIODeadline) {
        guard timer == nil, let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: fireAt) { [self] in
            self.timer = nil
            self.timerFired()
        }
    }

    private func timerFired() {
        guard let context else { return }
        let now = NIODeadline.now()
        switch state {
        case .inExchange:
            return  // re-armed when the exchange completes
        case .waitingForRequest where now >= deadline:
            context.close(promise: nil)
        case .readingHead where now >= deadline:
            var buffer = context.channel.allocator.buffer(capacity: 96)
            buffer.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            context.writeAndFlush(NIOAny(buffer), promise: nil)
            context.close(promise: nil)
        case .waitingForRequest, .readingHead:
            ensureTimer(fireAt: min(deadline, now + headerTimeout))
        }
    }
}
