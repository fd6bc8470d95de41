import NIOCore
import NIOHTTP1

/// The handler of a one-shot health-check connection: sends `GET path` with `Connection: close`
/// once active and reports the response status (or the failure) through a promise.
final class HealthProbeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let result: EventLoopPromise<Int>

    init(path: String, host: String, result: EventLoopPromise<Int>) {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: host)
        headers.add(name: "user-agent", value: "steadfast-balancer-health")
        headers.add(name: "connection", value: "close")
        self.head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        self.result = result
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let response) = unwrapInboundIn(data), response.status.code >= 200 {
            result.succeed(Int(response.status.code))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        result.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        result.fail(error)
        context.close(promise: nil)
    }
}
