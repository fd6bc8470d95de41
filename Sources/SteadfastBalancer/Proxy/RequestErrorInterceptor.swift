import NIOCore
import NIOHTTP1

/// Sits right after the HTTP request decoder, before NIO's pipelining handler (which would hold
/// a parse error back until the current response ends). A parse error inside the request that is
/// being forwarded (say, an invalid chunk size in its body) is handed to the
/// ``ClientConnectionHandler`` at once, so the client gets its 400 instead of waiting for a
/// backend timeout. Errors that belong to a later, pipelined request pass through unchanged.
final class RequestErrorInterceptor: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    let client: ClientConnectionHandler

    /// `client` is in the same pipeline and outlives this handler.
    init(client: ClientConnectionHandler) {
        self.client = client
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError, client.requestBodyParseFailed(parserError) {
            return
        }
        context.fireErrorCaught(error)
    }
}
