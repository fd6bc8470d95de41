import NIOCore

/// The first handler of an admin connection, before the HTTP codec: it runs a
/// ``ClientTimeouts`` on the raw bytes, so the admin listener closes idle connections after
/// `limits.client_idle_timeout` and answers **408** and closes a connection whose request (head
/// and body) is not complete within `limits.client_header_timeout` (slowloris). The
/// ``AdminHandler`` tells the same ``ClientTimeouts`` when a whole request arrived and when its
/// answer was written.
final class AdminTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeouts: ClientTimeouts
    private var opened = false

    init(timeouts: ClientTimeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connectionOpened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionOpened(context)
        context.fireChannelActive()
    }

    private func connectionOpened(_ context: ChannelHandlerContext) {
        guard !opened else { return }
        opened = true
        timeouts.connectionOpened(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timeouts.bytesReceived()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeouts.connectionClosed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeouts.connectionClosed()
    }
}
