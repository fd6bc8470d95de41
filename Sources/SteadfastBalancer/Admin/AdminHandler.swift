import Foundation
import NIOCore
import NIOHTTP1

/// Serves the admin API on its own listener. Routes:
/// - `GET /servers` — every server with state, health, weights, active requests and counters;
/// - `GET /servers/{name}` — one server;
/// - `POST` or `PUT /servers/{name}` with JSON `{"state": "ready|drain|maint", "weight": 0...1000}`
///   (either key optional) — changes it and answers with its new status;
/// - `GET /metrics` — Prometheus text format;
/// - `GET /healthz` — 200 while the balancer runs.
///
/// Access rules (see ``AdminAccess``): with `admin.token`, every request but `GET /healthz` needs
/// the bearer token (401 otherwise); without one, the `Host` must be an address (403 otherwise);
/// any request but GET/HEAD must be `application/json` (415 otherwise). Timeouts: see
/// ``AdminTimeoutHandler``.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A request being collected.
    private enum State {
        /// Waiting for a request head.
        case idle
        /// Collecting the body (at most 64 KiB) of this head.
        case collecting(HTTPRequestHead, ByteBuffer)
        /// Body too large; the rest is ignored and the connection closed after answering.
        case rejected
    }

    private struct Change: Decodable {
        var state: ServerAdminState?
        var weight: Int?
    }

    private struct ServerList: Encodable {
        var servers: [ServerStatus]
    }

    private let pool: ServerPool
    private let metrics: ProxyMetrics
    /// The bearer token in effect (it can change on reload), `nil` when none is configured.
    private let token: @Sendable () -> String?
    private let timeouts: ClientTimeouts
    private var state: State = .idle

    init(pool: ServerPool, metrics: ProxyMetrics, token: @escaping @Sendable () -> String?, timeouts: ClientTimeouts) {
        self.pool = pool
        self.metrics = metrics
        self.token = token
        self.timeouts = timeouts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            state = .collecting(head, context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .collecting(let head, var body)):
            guard body.readableBytes + chunk.readableBytes <= 64 * 1024 else {
                state = .rejected
                return respond(context, status: .payloadTooLarge, json: ["error": "body too large"], close: true)
            }
            body.writeBuffer(&chunk)
            state = .collecting(head, body)
        case (.end, .collecting(let head, let body)):
            state = .idle
            // The whole request arrived in time: the request timeout stops until the answer is out.
            timeouts.requestHeadReceived()
            if let refusal = refusal(head) {
                respond(context, status: refusal.status, json: ["error": refusal.error], close: !head.isKeepAlive, challenge: refusal.status == .unauthorized)
            } else {
                route(context, head: head, body: body)
            }
            timeouts.exchangeCompleted(now: .now())
        case (.body, _), (.end, _):
            break
        }
    }

    /// Why `head` may not be served (``AdminAccess``), checked before routing so that nothing
    /// about the servers is told to a client that may not ask.
    private func refusal(_ head: HTTPRequestHead) -> (status: HTTPResponseStatus, error: String)? {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if let token = token() {
            if !(head.method == .GET && path == "/healthz"),
                !AdminAccess.isAuthorized(head.headers["authorization"], token: token)
            {
                return (.unauthorized, "missing or wrong bearer token")
            }
        } else if !AdminAccess.isAddressHost(head.headers["host"]) {
            return (.forbidden, "without admin.token, the Host must be an IP address or localhost")
        }
        switch head.method {
        case .GET, .HEAD:
            return nil
        default:
            guard AdminAccess.isJSON(head.headers["content-type"]) else {
                return (.unsupportedMediaType, "expected Content-Type: application/json")
            }
            return nil
        }
    }

    private func route(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let parts = path.split(separator: "/").map(String.init)
        let close = !head.isKeepAlive
        switch (head.method, parts.count, parts.first) {
        case (.GET, 1, "metrics"):
            let text = MetricsExporter.render(servers: pool.snapshot(), metrics: metrics)
            respond(context, status: .ok, contentType: "text/plain; version=0.0.4", body: Data(text.utf8), close: close)
        case (.GET, 1, "healthz"):
            respond(context, status: .ok, contentType: "text/plain", body: Data("ok\n".utf8), close: close)
        case (.GET, 1, "servers"):
            respond(context, status: .ok, json: ServerList(servers: pool.snapshot()), close: close)
        case (.GET, 2, "servers"):
            guard let server = pool.snapshot().first(where: { $0.name == parts[1] }) else {
                return respond(context, status: .notFound, json: ["error": "no server named \(parts[1])"], close: close)
            }
            respond(context, status: .ok, json: server, close: close)
        case (.POST, 2, "servers"), (.PUT, 2, "servers"):
            let name = parts[1]
            let change: Change
            do {
                change = try JSONDecoder().decode(Change.self, from: Data(body.readableBytesView))
            } catch {
                return respond(context, status: .badRequest, json: ["error": "expected JSON {\"state\": \"ready|drain|maint\", \"weight\": 0...1000}"], close: close)
            }
            if let weight = change.weight, !(0...1000).contains(weight) {
                return respond(context, status: .badRequest, json: ["error": "weight must be between 0 and 1000"], close: close)
            }
            var result = BalancerStateMachine.AdminResult.done
            if let state = change.state { result = pool.setAdminState(server: name, to: state) }
            if result == .done, let weight = change.weight { result = pool.setWeight(server: name, to: weight) }
            guard result == .done, let server = pool.snapshot().first(where: { $0.name == name }) else {
                return respond(context, status: .notFound, json: ["error": "no server named \(name)"], close: close)
            }
            respond(context, status: .ok, json: server, close: close)
        case (_, 1, "metrics"), (_, 1, "healthz"), (_, 1, "servers"), (_, 2, "servers"):
            respond(context, status: .methodNotAllowed, json: ["error": "method not allowed"], close: close)
        default:
            respond(context, status: .notFound, json: ["error": "not found"], close: close)
        }
    }

    private func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, json: some Encodable, close: Bool, challenge: Bool = false) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let body = (try? encoder.encode(json)) ?? Data("{}".utf8)
        respond(context, status: status, contentType: "application/json", body: body + Data("\n".utf8), close: close, challenge: challenge)
    }

    private func respond(
        _ context: ChannelHandlerContext,
        status: HTTPResponseStatus,
        contentType: String,
        body: Data,
        close: Bool,
        challenge: Bool = false
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        if challenge { headers.add(name: "www-authenticate", value: "Bearer realm=\"steadfast-balancer\"") }
        headers.add(name: "content-length", value: String(body.count))
        if close { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
