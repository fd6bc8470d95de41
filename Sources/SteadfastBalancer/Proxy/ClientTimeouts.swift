import NIOCore

/// Enforces the two client timeouts of one client connection: an idle keep-alive connection is
/// closed quietly after `idleTimeout`; a client that started a request head but did not finish
/// it within `headerTimeout` (slowloris) gets a raw 408 and is closed. Not a channel handler of
/// its own (that cost a pipeline hop on every read): the ``ClientConnectionHandler`` owns it and
/// tells it when the connection opened and closed, when bytes arrived, when a head arrived and
/// when an exchange ended. One lazily re-armed timer per connection (never one per request):
/// when it fires it compares the current deadline with the clock and sleeps again if time remains.
///
/// Its clock is the connection's event loop (`NIODeadline.now()`, `scheduleTask`), on purpose and
/// like the exchange's backend timeout: these are per-connection timers on the throughput path,
/// where the loop's own time costs nothing. What decides is pure and takes `now` as input
/// (``ProxyExchangeStateMachine``), so its tests set time themselves.
final class ClientTimeouts {
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

    /// The connection is open (`context` is the owning handler's): the idle timeout starts.
    func connectionOpened(_ context: ChannelHandlerContext) {
        self.context = context
        waitForRequest(now: .now())
    }

    /// The connection closed or the owner left the pipeline: no timer stays armed.
    func connectionClosed() {
        timer?.cancel()
        timer = nil
        context = nil
    }

    /// Bytes arrived from the client; the first byte of a head starts the header timeout.
    @inline(__always)
    func bytesReceived() {
        if case .waitingForRequest = state {
            state = .readingHead
            deadline = .now() + headerTimeout
            ensureTimer(fireAt: deadline)
        }
    }

    /// A complete request head was decoded.
    func requestHeadReceived() {
        state = .inExchange
    }

    /// The response to the current request is complete and the connection stays open.
    func exchangeCompleted(now: NIODeadline) {
        waitForRequest(now: now)
    }

    private func waitForRequest(now: NIODeadline) {
        state = .waitingForRequest
        deadline = now + idleTimeout
        // Wake at least every header timeout, so a head starting later is still caught in time.
        ensureTimer(fireAt: min(deadline, now + headerTimeout))
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
