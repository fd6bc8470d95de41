import NIOCore

/// The thin driver of one connection's ``ClientTimeoutStateMachine`` (idle keep-alive close and
/// the slowloris 408): it reads the clock, schedules and cancels the one timer, writes the 408
/// and closes; every decision is the machine's. Not a channel handler of its own (that cost a
/// pipeline hop on every read): the ``ClientConnectionHandler`` (or, on the admin listener, the
/// ``AdminTimeoutHandler`` and ``AdminHandler``) owns it and tells it when the connection opened
/// and closed, when bytes arrived, when a head arrived and when an exchange ended.
///
/// Its clock is the connection's event loop (`NIODeadline.now()`, `scheduleTask`), on purpose and
/// like the exchange's backend timeout: these are per-connection timers on the throughput path,
/// where the loop's own time costs nothing. The clock is read only where a decision needs it:
/// when the connection opens, on the first bytes of a head, when the timer fires (and the owner
/// passes the time an exchange completed).
final class ClientTimeouts {
    private typealias Machine = ClientTimeoutStateMachine

    private var machine: ClientTimeoutStateMachine
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.machine = ClientTimeoutStateMachine(idleTimeout: idleTimeout, headerTimeout: headerTimeout)
    }

    /// The connection is open (`context` is the owning handler's): the idle timeout starts.
    func connectionOpened(_ context: ChannelHandlerContext) {
        self.context = context
        run(machine.connectionOpened(now: .now()))
    }

    /// The connection closed or the owner left the pipeline: no timer stays armed.
    func connectionClosed() {
        run(machine.connectionClosed())
        context = nil
    }

    /// Bytes arrived from the client. Only the first byte of a head matters to the machine (it
    /// starts the header timeout), so only then is the clock read.
    @inline(__always)
    func bytesReceived() {
        guard machine.awaitsFirstByte else { return }
        run(machine.bytesReceived(now: .now()))
    }

    /// A complete request head was decoded.
    func requestHeadReceived() {
        run(machine.requestHeadReceived())
    }

    /// The response to the current request is complete and the connection stays open.
    func exchangeCompleted(now: NIODeadline) {
        run(machine.exchangeCompleted(now: now))
    }

    private func run(_ action: Machine.Action) {
        switch action {
        case .none:
            break
        case .armTimer(let deadline):
            guard let context else { return }
            timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                self.timer = nil
                guard self.context != nil else { return }
                self.run(self.machine.timerFired(now: .now()))
            }
        case .cancelTimer:
            timer?.cancel()
            timer = nil
        case .close:
            context?.close(promise: nil)
        case .reject408:
            guard let context else { return }
            var buffer = context.channel.allocator.buffer(capacity: 96)
            buffer.writeString("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            context.writeAndFlush(NIOAny(buffer), promise: nil)
            context.close(promise: nil)
        }
    }
}
