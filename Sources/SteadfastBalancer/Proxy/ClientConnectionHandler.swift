import Logging
import NIOCore
import NIOHTTP1

/// The heart of the data plane: the last handler of a client connection. For each request it
/// asks the ``ServerPool`` for a server, takes a keep-alive connection from this loop's
/// ``BackendConnectionPool`` (or opens one on the same loop), and glues the two channels:
/// request parts go to the backend and response parts to the client as they arrive, with
/// back-pressure passed across through `read()` and writability (nothing is buffered whole).
/// Failed attempts are retried only as ``RetryStateMachine`` allows; limits give 413/431/400.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The life of a client connection.
    private enum State {
        /// Waiting for the next request head. → `.proxying` on a head, → `.closing`.
        case idle
        /// One request is being forwarded. → `.idle` when its response ended on a keep-alive
        /// connection, → `.closing` otherwise.
        case proxying(ProxyExchange)
        /// An answer that ends the connection is being written, or the connection is gone;
        /// all further input is ignored.
        case closing
    }

    private var state: State = .idle
    private let loop: LoopContext
    private let settings: ProxySettings
    private let scheme: String
    private let timeouts: ClientTimeoutHandler
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var clientIP: String?
    private var pendingRead = false

    init(loop: LoopContext, scheme: String, timeouts: ClientTimeoutHandler, logger: Logger) {
        self.loop = loop
        self.settings = loop.settings
        self.scheme = scheme
        self.timeouts = timeouts
        self.logger = logger
    }

    /// Whether the client can take more response bytes (backend reads wait otherwise).
    var canTakeResponseBytes: Bool { context?.channel.isWritable ?? false }

    // MARK: Channel lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { connectionOpened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionOpened(context)
        context.fireChannelActive()
    }

    private func connectionOpened(_ context: ChannelHandlerContext) {
        guard clientIP == nil else { return }
        clientIP = context.channel.remoteAddress?.ipAddress ?? "unknown"
        loop.metrics.clientConnectionsOpened.add(1, ordering: .relaxed)
        loop.metrics.clientConnectionsOpen.add(1, ordering: .relaxed)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state {
            abandon(exchange)
        }
        state = .closing
        if clientIP != nil { loop.metrics.clientConnectionsOpen.subtract(1, ordering: .relaxed) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Requests from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): requestHeadReceived(head)
        case .body(let buffer): requestBodyReceived(buffer)
        case .end(let trailers): requestEndReceived(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state, let backend = exchange.backend { backend.flush() }
        context.fireChannelReadComplete()
    }

    private func requestHeadReceived(_ head: HTTPRequestHead) {
        timeouts.requestHeadReceived()
        guard case .idle = state else { return }
        loop.metrics.requests.add(1, ordering: .relaxed)

        // Request smuggling guard: a message must not carry both framings (RFC 9112 §6.1).
        let contentLengths = head.headers[canonicalForm: "content-length"]
        if !contentLengths.isEmpty && head.headers.contains(name: "transfer-encoding") {
            return reject(.badRequest)
        }
        if let first = contentLengths.first {
            guard contentLengths.allSatisfy({ $0 == first }), let length = Int(first), length >= 0 else {
                return reject(.badRequest)
            }
            if length > settings.limits.maxBodyBytes { return reject(.payloadTooLarge) }
        }

        let requestID = ProxyHeaders.requestID(from: head, generate: loop.nextRequestID)
        let forwardHead = ProxyHeaders.forwardRequest(head, clientIP: clientIP, scheme: scheme, requestID: requestID)
        let sticky = settings.sticky.enabled ? ProxyHeaders.cookie(named: settings.sticky.cookie, in: head.headers) : nil
        let exchange = ProxyExchange(
            method: head.method,
            clientVersion: head.version,
            clientKeepAlive: head.isKeepAlive,
            forwardHead: forwardHead,
            stickyServer: sticky,
            maxAttempts: settings.retries.maxAttempts
        )
        state = .proxying(exchange)
        startAttempt(exchange, isRetry: false)
    }

    private func requestBodyReceived(_ buffer: ByteBuffer) {
        guard case .proxying(let exchange) = state, !exchange.requestEnded else { return }
        exchange.bodyBytes += buffer.readableBytes
        guard exchange.bodyBytes <= settings.limits.maxBodyBytes else {
            abandon(exchange)
            if exchange.responseStarted {
                closeClient()
            } else {
                reject(.payloadTooLarge)
            }
            return
        }
        exchange.lastBackendActivity = .now()
        send(.body(.byteBuffer(buffer)), exchange)
    }

    private func requestEndReceived(_ trailers: HTTPHeaders?) {
        guard case .proxying(let exchange) = state, !exchange.requestEnded else { return }
        exchange.requestEnded = true
        send(.end(trailers), exchange)
    }

    /// Writes a request part to the current backend, or queues it while there is none yet.
    private func send(_ part: HTTPClientRequestPart, _ exchange: ProxyExchange) {
        guard let backend = exchange.backend else {
            exchange.pending.append(part)
            return
        }
        keepForReplay(part, exchange)
        exchange.bodyWrittenThisAttempt = true
        backend.write(part, promise: nil)
    }

    private func keepForReplay(_ part: HTTPClientRequestPart, _ exchange: ProxyExchange) {
        guard exchange.retry.bodyReplayable else { return }
        if case .body(let data) = part {
            exchange.sentBytes += data.readableBytes
            if exchange.sentBytes > settings.retries.replayBodyBytes {
                exchange.retry.bodyReplayable = false
                exchange.sent.removeAll()
                return
            }
        }
        exchange.sent.append(part)
    }

    /// Called by ``RequestErrorInterceptor`` for a parse error; handles it here when it is
    /// about the body of the request being forwarded. Returns whether it did.
    func requestBodyParseFailed(_ error: HTTPParserError) -> Bool {
        guard case .proxying(let exchange) = state, !exchange.requestEnded else { return false }
        logger.debug("malformed request body", metadata: ["lb.error": "\(error)"])
        abandon(exchange)
        if exchange.responseStarted {
            closeClient()
        } else {
            reject(Self.status(for: error))
        }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            switch state {
            case .idle:
                reject(Self.status(for: parserError))
            case .proxying(let exchange):
                abandon(exchange)
                exchange.responseStarted ? closeClient() : reject(Self.status(for: parserError))
            case .closing:
                break
            }
            return
        }
        // I/O errors (reset by peer and the like): the connection is done.
        if case .proxying(let exchange) = state { abandon(exchange) }
        closeClient()
    }

    static func status(for error: HTTPParserError) -> HTTPResponseStatus {
        switch error {
        case .headerOverflow: .requestHeaderFieldsTooLarge
        default: .badRequest
        }
    }

    // MARK: Attempts

    private func startAttempt(_ exchange: ProxyExchange, isRetry: Bool) {
        let pick = loop.pool.pickServer(sticky: exchange.stickyServer, excluding: exchange.tried, isRetry: isRetry)
        guard case .forward(let choice) = pick else {
            loop.metrics.noServerAvailable.add(1, ordering: .relaxed)
            let status = isRetry ? exchange.retry.retryImpossible(lastPhase: exchange.lastFailurePhase) : .serviceUnavailable
            return respondWithError(status, exchange)
        }
        exchange.server = choice
        exchange.tried.append(choice.name)
        exchange.attemptID += 1
        exchange.headSent = false
        exchange.bodyWrittenThisAttempt = false
        exchange.lastBackendActivity = .now()
        armBackendTimeout(exchange)

        let pool = loop.backendPool(for: choice)
        if let connection = pool.takeIdle() {
            return backendConnected(connection, exchange)
        }
        let attemptID = exchange.attemptID
        let maxIdle = settings.limits.maxIdleConnectionsPerBackend
        pool.connect(timeout: settings.limits.backendConnectTimeout).assumeIsolated().whenComplete { [self] result in
            guard case .proxying(let current) = self.state, current === exchange, exchange.attemptID == attemptID else {
                // The attempt was given up meanwhile; the fresh connection can serve someone else.
                if case .success(let connection) = result { pool.release(connection, maxIdle: maxIdle) }
                return
            }
            switch result {
            case .success(let connection):
                self.backendConnected(connection, exchange)
            case .failure(let error):
                self.logger.debug("backend connect failed", metadata: ["lb.backend": "\(choice.name)", "lb.error": "\(error)"])
                self.attemptFailed(exchange, phase: .connectFailed, outcome: .connectFailed)
            }
        }
    }

    private func backendConnected(_ connection: BackendConnectionHandler, _ exchange: ProxyExchange) {
        exchange.backend = connection
        connection.attach(self)
        let attemptID = exchange.attemptID
        let headWritten = loop.eventLoop.makePromise(of: Void.self)
        headWritten.futureResult.assumeIsolated().whenSuccess {
            if exchange.attemptID == attemptID { exchange.headSent = true }
        }
        connection.write(.head(exchange.forwardHead), promise: headWritten)
        let pending = exchange.pending
        exchange.pending.removeAll()
        for part in pending { send(part, exchange) }
        connection.flush()
        resumeClientReadIfPossible()
    }

    private func armBackendTimeout(_ exchange: ProxyExchange) {
        exchange.timeoutTask?.cancel()
        let timeout = settings.limits.backendTimeout
        let deadline = exchange.lastBackendActivity + timeout
        exchange.timeoutTask = loop.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            guard case .proxying(let current) = self.state, current === exchange else { return }
            if NIODeadline.now() < exchange.lastBackendActivity + timeout {
                return self.armBackendTimeout(exchange)
            }
            exchange.timeoutTask = nil
            self.logger.debug("backend timeout", metadata: ["lb.backend": "\(exchange.server?.name ?? "-")"])
            self.attemptFailed(exchange, phase: exchange.responseStarted ? .responseStarted : .timedOut, outcome: .timedOut)
        }
    }

    /// The current attempt failed: report it, then retry, answer with an error, or cut the client.
    private func attemptFailed(
        _ exchange: ProxyExchange,
        phase: RetryStateMachine.FailurePhase,
        outcome: BalancerStateMachine.RequestOutcome
    ) {
        exchange.timeoutTask?.cancel()
        exchange.timeoutTask = nil
        if let backend = exchange.backend {
            exchange.backend = nil
            backend.close()
        }
        report(exchange, outcome: outcome)
        exchange.lastFailurePhase = phase
        switch exchange.retry.attemptFailed(phase) {
        case .retry(let spendsBudget):
            let replayable = exchange.retry.bodyReplayable || !exchange.bodyWrittenThisAttempt
            if !replayable || (spendsBudget && !loop.pool.tryWithdrawRetry()) {
                return respondWithError(exchange.retry.retryImpossible(lastPhase: phase), exchange)
            }
            // Everything written in the failed attempt goes out again, ahead of what is still queued.
            exchange.pending = exchange.sent + exchange.pending
            exchange.sent.removeAll()
            exchange.sentBytes = 0
            loop.metrics.retries.add(1, ordering: .relaxed)
            startAttempt(exchange, isRetry: true)
        case .respond(let status):
            respondWithError(status, exchange)
        case .closeClientConnection:
            closeClient()
        }
    }

    /// Reports the current attempt's outcome to the pool exactly once.
    private func report(_ exchange: ProxyExchange, outcome: BalancerStateMachine.RequestOutcome) {
        guard let server = exchange.server else { return }
        exchange.server = nil
        if case .serverEjected(let name) = loop.pool.requestFinished(server: server.name, outcome: outcome) {
            logger.warning("server ejected after consecutive failures", metadata: ["lb.backend": "\(name)"])
        }
    }

    /// The exchange ends without a response from a backend (client gone, limit hit, error answer).
    private func abandon(_ exchange: ProxyExchange) {
        exchange.timeoutTask?.cancel()
        exchange.timeoutTask = nil
        exchange.attemptID += 1
        if let backend = exchange.backend {
            exchange.backend = nil
            backend.close()
        }
        report(exchange, outcome: .abandoned)
    }

    // MARK: Responses from the backend (called by BackendConnectionHandler, same loop)

    func backendReceived(_ part: HTTPClientResponsePart, from connection: BackendConnectionHandler) {
        guard case .proxying(let exchange) = state, exchange.backend === connection, let context else {
            connection.close()
            return
        }
        exchange.lastBackendActivity = .now()
        switch part {
        case .head(let head):
            if head.status.code < 200 {
                // 1xx (e.g. 100 Continue) go through as they are; 101 upgrades are not supported.
                guard head.status != .switchingProtocols else {
                    return attemptFailed(exchange, phase: .noResponse, outcome: .broken)
                }
                if exchange.clientVersion != .http1_0 {
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: exchange.clientVersion, status: head.status, headers: head.headers))), promise: nil)
                }
                return
            }
            exchange.responseStatus = Int(head.status.code)
            exchange.backendKeepAlive = head.isKeepAlive
            if exchange.clientVersion == .http1_0 && !head.headers.contains(name: "content-length") {
                exchange.clientKeepAlive = false
            }
            var cookie: String?
            if settings.sticky.enabled, let server = exchange.server, !server.stickyHonoured {
                cookie = "\(settings.sticky.cookie)=\(server.name); Path=/; HttpOnly; SameSite=Lax"
            }
            let responseHead = ProxyHeaders.forwardResponse(
                head,
                clientVersion: exchange.clientVersion,
                keepAlive: exchange.clientKeepAlive,
                setCookie: cookie
            )
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        case .body(let buffer):
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            responseEnded(exchange, trailers: trailers, context: context)
        }
    }

    func backendReadComplete() {
        context?.flush()
    }

    private func responseEnded(_ exchange: ProxyExchange, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        exchange.timeoutTask?.cancel()
        exchange.timeoutTask = nil
        let status = exchange.responseStatus ?? 502
        let serverChoice = exchange.server
        report(exchange, outcome: .response(status: status))
        loop.metrics.countResponse(status: status)

        if let backend = exchange.backend {
            exchange.backend = nil
            backend.detach()
            if exchange.backendKeepAlive && exchange.requestEnded, let serverChoice {
                loop.backendPool(for: serverChoice).release(backend, maxIdle: settings.limits.maxIdleConnectionsPerBackend)
            } else {
                backend.close()
            }
        }
        // A client still sending a body we no longer need is cut off after the response.
        let closeAfter = !exchange.clientKeepAlive || !exchange.requestEnded
        if closeAfter {
            state = .closing
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            // Become idle before writing the end: the pipelining handler may deliver the next
            // request from inside this write.
            state = .idle
            timeouts.exchangeCompleted()
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    /// The backend connection closed or failed while carrying this client's exchange.
    func backendClosed(_ connection: BackendConnectionHandler, error: (any Error)?) {
        guard case .proxying(let exchange) = state, exchange.backend === connection else { return }
        exchange.backend = nil
        if exchange.responseStarted {
            attemptFailed(exchange, phase: .responseStarted, outcome: .broken)
        } else if exchange.headSent {
            attemptFailed(exchange, phase: .noResponse, outcome: .broken)
        } else {
            // Not a byte of this request reached the backend (a stale keep-alive connection).
            attemptFailed(exchange, phase: .connectFailed, outcome: .connectFailed)
        }
    }

    func backendWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReadIfPossible() }
    }

    // MARK: Back-pressure

    func read(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state, !exchange.requestEnded,
            exchange.backend == nil || !(exchange.backend?.isWritable ?? false)
        {
            pendingRead = true
            return
        }
        context.read()
    }

    private func resumeClientReadIfPossible() {
        guard pendingRead, let context else { return }
        if case .proxying(let exchange) = state, let backend = exchange.backend, !backend.isWritable { return }
        pendingRead = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .proxying(let exchange) = state {
            exchange.backend?.clientBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Answers of our own

    /// A malformed or over-limit request: answer and close (the rest of its bytes are unusable).
    private func reject(_ status: HTTPResponseStatus) {
        loop.metrics.rejectedRequests.add(1, ordering: .relaxed)
        writeErrorResponse(status, version: .http1_1, close: true)
    }

    /// Answers the current request with an error status produced by the proxy itself.
    private func respondWithError(_ status: HTTPResponseStatus, _ exchange: ProxyExchange) {
        abandon(exchange)
        let close = !exchange.clientKeepAlive || !exchange.requestEnded
        writeErrorResponse(status, version: exchange.clientVersion, close: close)
    }

    private func writeErrorResponse(_ status: HTTPResponseStatus, version: HTTPVersion, close: Bool) {
        guard let context else { return }
        loop.metrics.countResponse(status: Int(status.code))
        let body = "\(status.code) \(status.reasonPhrase)\n"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(body.utf8.count))
        if close { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: version == .http1_0 ? .http1_0 : .http1_1, status: status, headers: headers)
        state = close ? .closing : .idle
        if !close { timeouts.exchangeCompleted() }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func closeClient() {
        state = .closing
        context?.close(promise: nil)
    }
}
