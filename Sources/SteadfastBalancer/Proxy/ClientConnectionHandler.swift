import Logging
import NIOCore
import NIOHTTP1

/// The heart of the data plane: the last handler of a client connection. For each request it
/// asks the ``ServerPool`` for a server, takes a keep-alive connection from this loop's
/// ``BackendConnectionPool`` (or opens one on the same loop), and glues the two channels:
/// request parts go to the backend and response parts to the client as they arrive, with
/// back-pressure passed across through `read()` and writability (nothing is buffered whole).
/// Failed attempts are retried only as ``RetryStateMachine`` allows; limits give 413/431/400.
///
/// It also does the work NIO's pipelining handler would do, more cheaply for a proxy (that
/// handler stops and restarts reading around every request, two `epoll_ctl` calls each):
/// requests a client pipelines behind the current one are queued (reads pause only then) and
/// replayed when the current response ends; `ChannelShouldQuiesceEvent` closes the connection
/// once the in-flight response is done.
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
    /// A `read()` held back (back-pressure or queued pipelined requests).
    private var pendingRead = false
    /// Parts of requests pipelined behind the one in flight.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    /// A parse error that came after the request in flight; answered once it is done.
    private var queuedError: HTTPParserError?
    /// Graceful shutdown asked this connection to close after the response in flight.
    private var quiescing = false
    /// The lazily re-armed backend-timeout timer (one per connection, not per request).
    private var backendTimer: Scheduled<Void>?

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
        queued.removeAll()
        backendTimer?.cancel()
        backendTimer = nil
        if clientIP != nil { loop.metrics.clientConnectionsOpen.subtract(1, ordering: .relaxed) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            return context.fireUserInboundEventTriggered(event)
        }
        quiescing = true
        switch state {
        case .idle:
            closeClient()
        case .proxying(let exchange):
            exchange.clientKeepAlive = false
        case .closing:
            break
        }
    }

    // MARK: Requests from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !queued.isEmpty {
            queued.append(part)
            return
        }
        if case .proxying(let exchange) = state, exchange.requestEnded {
            // A pipelined request behind the one in flight: keep it for later, read no further.
            queued.append(part)
            return
        }
        dispatch(part)
    }

    private func dispatch(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head): requestHeadReceived(head)
        case .body(let buffer): requestBodyReceived(buffer)
        case .end(let trailers): requestEndReceived(trailers)
        }
    }

    /// Replays queued pipelined parts once the connection is idle again.
    private func drainQueue() {
        while let part = queued.popFirst() {
            dispatch(part)
            if case .proxying(let exchange) = state, exchange.requestEnded { break }
            if case .closing = state {
                queued.removeAll()
                return
            }
        }
        if queued.isEmpty, let error = queuedError, case .idle = state {
            queuedError = nil
            reject(Self.status(for: error))
            return
        }
        if queued.isEmpty { resumeClientReadIfPossible() }
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
            clientKeepAlive: head.isKeepAlive && !quiescing,
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
        exchange.lastActivity = .now()
        guard let backend = exchange.backend else {
            exchange.pendingBody.append(buffer)
            return
        }
        writeBody(buffer, to: backend, exchange)
    }

    private func requestEndReceived(_ trailers: HTTPHeaders?) {
        guard case .proxying(let exchange) = state, !exchange.requestEnded else { return }
        exchange.requestEnded = true
        exchange.trailers = trailers
        if let backend = exchange.backend {
            exchange.endWritten = true
            backend.write(.end(trailers), promise: nil)
        }
    }

    private func writeBody(_ buffer: ByteBuffer, to backend: BackendConnectionHandler, _ exchange: ProxyExchange) {
        if exchange.retry.bodyReplayable {
            exchange.sentBytes += buffer.readableBytes
            if exchange.sentBytes <= settings.retries.replayBodyBytes {
                exchange.sentBody.append(buffer)
            } else {
                exchange.retry.bodyReplayable = false
                exchange.sentBody.removeAll()
            }
        }
        exchange.bodyWrittenThisAttempt = true
        backend.write(.body(.byteBuffer(buffer)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            // I/O errors (reset by peer and the like): the connection is done.
            if case .proxying(let exchange) = state { abandon(exchange) }
            return closeClient()
        }
        logger.debug("malformed request", metadata: ["lb.error": "\(parserError)"])
        switch state {
        case .idle:
            reject(Self.status(for: parserError))
        case .proxying(let exchange) where exchange.requestEnded:
            // It belongs to a pipelined request: finish the current one first.
            queuedError = parserError
            exchange.clientKeepAlive = false
        case .proxying(let exchange):
            // Inside the body being forwarded (e.g. a bad chunk size): the exchange is void.
            abandon(exchange)
            exchange.responseStarted ? closeClient() : reject(Self.status(for: parserError))
        case .closing:
            break
        }
    }

    static func status(for error: HTTPParserError) -> HTTPResponseStatus {
        switch error {
        case .headerOverflow: .requestHeaderFieldsTooLarge
        default: .badRequest
        }
    }

    // MARK: Attempts

    private func startAttempt(_ exchange: ProxyExchange, isRetry: Bool) {
        let pick = loop.pool.pickServer(sticky: exchange.stickyServer, excluding: exchange.failedServers, isRetry: isRetry)
        guard case .forward(let choice) = pick else {
            loop.metrics.noServerAvailable.add(1, ordering: .relaxed)
            let status = isRetry ? exchange.retry.retryImpossible(lastPhase: exchange.lastFailurePhase) : .serviceUnavailable
            return respondWithError(status, exchange)
        }
        exchange.server = choice
        exchange.attemptID += 1
        exchange.headSent = false
        exchange.bodyWrittenThisAttempt = false
        exchange.endWritten = false
        exchange.lastActivity = .now()
        ensureBackendTimer()

        let pool = loop.backendPool(for: choice)
        exchange.pool = pool
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
        if exchange.retry.isIdempotent {
            // Whether it arrived does not matter for an idempotent request: no promise needed.
            exchange.headSent = true
            connection.write(.head(exchange.forwardHead), promise: nil)
        } else {
            let attemptID = exchange.attemptID
            let headWritten = loop.eventLoop.makePromise(of: Void.self)
            headWritten.futureResult.assumeIsolated().whenSuccess {
                if exchange.attemptID == attemptID { exchange.headSent = true }
            }
            connection.write(.head(exchange.forwardHead), promise: headWritten)
        }
        if !exchange.pendingBody.isEmpty {
            let pending = exchange.pendingBody
            exchange.pendingBody.removeAll()
            for buffer in pending { writeBody(buffer, to: connection, exchange) }
        }
        if exchange.requestEnded {
            exchange.endWritten = true
            connection.write(.end(exchange.trailers), promise: nil)
        }
        connection.flush()
        resumeClientReadIfPossible()
    }

    /// Makes sure the connection's backend-timeout timer is armed. It is one timer per
    /// connection that re-arms itself while an exchange waits on a backend (comparing the
    /// exchange's last activity with the clock), rather than a timer scheduled per request.
    private func ensureBackendTimer() {
        guard backendTimer == nil else { return }
        armBackendTimer(at: .now() + settings.limits.backendTimeout)
    }

    private func armBackendTimer(at deadline: NIODeadline) {
        backendTimer = loop.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.backendTimer = nil
            guard case .proxying(let exchange) = self.state, exchange.server != nil else { return }
            let expiry = exchange.lastActivity + self.settings.limits.backendTimeout
            if NIODeadline.now() < expiry {
                self.armBackendTimer(at: expiry)
            } else {
                self.backendTimedOut(exchange)
            }
        }
    }

    private func backendTimedOut(_ exchange: ProxyExchange) {
        logger.debug("backend timeout", metadata: ["lb.backend": "\(exchange.server?.name ?? "-")"])
        attemptFailed(exchange, phase: exchange.responseStarted ? .responseStarted : .timedOut, outcome: .timedOut)
    }

    /// The current attempt failed: report it, then retry, answer with an error, or cut the client.
    private func attemptFailed(
        _ exchange: ProxyExchange,
        phase: RetryStateMachine.FailurePhase,
        outcome: BalancerStateMachine.RequestOutcome
    ) {
        if let backend = exchange.backend {
            exchange.backend = nil
            backend.close()
        }
        if let server = exchange.server { exchange.failedServers.append(server.name) }
        report(exchange, outcome: outcome)
        exchange.lastFailurePhase = phase
        switch exchange.retry.attemptFailed(phase) {
        case .retry(let spendsBudget):
            let replayable = exchange.retry.bodyReplayable || !exchange.bodyWrittenThisAttempt
            if !replayable || (spendsBudget && !loop.pool.tryWithdrawRetry()) {
                return respondWithError(exchange.retry.retryImpossible(lastPhase: phase), exchange)
            }
            // Everything written in the failed attempt goes out again, ahead of what is still queued.
            exchange.pendingBody = exchange.sentBody + exchange.pendingBody
            exchange.sentBody.removeAll()
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
        switch part {
        case .head(let head):
            exchange.lastActivity = .now()
            if head.status.code < 200 {
                // 1xx (e.g. 100 Continue) go through as they are; 101 upgrades are not supported.
                guard head.status != .switchingProtocols else {
                    return attemptFailed(exchange, phase: .noResponse, outcome: .broken)
                }
                if exchange.clientVersion != .http1_0 {
                    let informational = HTTPResponseHead(version: exchange.clientVersion, status: head.status, headers: head.headers)
                    context.write(wrapOutboundOut(.head(informational)), promise: nil)
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
            exchange.lastActivity = .now()
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            responseEnded(exchange, trailers: trailers, context: context)
        }
    }

    func backendReadComplete() {
        context?.flush()
    }

    private func responseEnded(_ exchange: ProxyExchange, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        let status = exchange.responseStatus ?? 502
        report(exchange, outcome: .response(status: status))
        loop.metrics.countResponse(status: status)

        if let backend = exchange.backend {
            exchange.backend = nil
            backend.detach()
            if exchange.backendKeepAlive && exchange.endWritten, let pool = exchange.pool {
                pool.release(backend, maxIdle: settings.limits.maxIdleConnectionsPerBackend)
            } else {
                backend.close()
            }
        }
        // A client still sending a body we no longer need is cut off after the response.
        if !exchange.clientKeepAlive || !exchange.requestEnded {
            state = .closing
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        state = .idle
        timeouts.exchangeCompleted()
        // Flushed here: the backend connection is detached now, its read-complete won't reach us.
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        if !queued.isEmpty || queuedError != nil {
            drainQueue()
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
        if !queued.isEmpty {
            pendingRead = true
            return
        }
        if case .proxying(let exchange) = state, !exchange.requestEnded,
            exchange.backend == nil || !(exchange.backend?.isWritable ?? false)
        {
            pendingRead = true
            return
        }
        context.read()
    }

    private func resumeClientReadIfPossible() {
        guard pendingRead, queued.isEmpty, let context else { return }
        if case .proxying(let exchange) = state, !exchange.requestEnded,
            exchange.backend == nil || !(exchange.backend?.isWritable ?? false)
        {
            return
        }
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
        queued.removeAll()
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
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            timeouts.exchangeCompleted()
            if !queued.isEmpty || queuedError != nil { drainQueue() }
        }
    }

    private func closeClient() {
        state = .closing
        queued.removeAll()
        context?.close(promise: nil)
    }
}
