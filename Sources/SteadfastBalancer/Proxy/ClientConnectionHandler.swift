import Logging
import NIOCore
import NIOHTTP1

/// The heart of the data plane: the last handler of a client connection. It frames the client's
/// bytes itself with an ``HTTP1RequestParser`` (no HTTP codec in the pipeline: only the request
/// line, framing and the few fields the proxy acts on are parsed; the other field lines and all
/// body bytes are forwarded as slices of what was read). For each request it asks the
/// ``ServerPool`` for a server, takes a keep-alive connection from this loop's
/// ``BackendConnectionPool`` (or opens one on the same loop), and glues the two channels:
/// request bytes go to the backend and response bytes to the client as they arrive, with
/// back-pressure passed across through `read()` and writability (nothing is buffered whole).
/// Failed attempts are retried only as ``RetryStateMachine`` allows; limits give 413/431/400.
///
/// Pipelining costs nothing extra: bytes of requests a client pipelines behind the current one
/// stay unparsed (reads pause only then) until the current response ends;
/// `ChannelShouldQuiesceEvent` closes the connection once the in-flight response is done.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

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
    private let timeouts: ClientTimeouts
    private let logger: Logger
    private var context: ChannelHandlerContext?
    /// The channel, kept from `handlerAdded` to `handlerRemoved` (asked for writability on every
    /// backend read; `context.channel` costs a pipeline lookup each time).
    private var channel: (any Channel)?
    /// The channel's allocator, kept so the hot path need not go through the channel for it.
    private var allocator = ByteBufferAllocator()
    /// Inside `channelRead`: backend writes are flushed once, when the read has been parsed.
    private var inChannelRead = false
    /// Bytes were written to the current backend during this read burst and not flushed yet.
    private var backendFlushPending = false
    /// Head buffers of the previous exchange, reused for the next one's heads: once the socket
    /// write released them they are uniquely ours and `clear()` costs no allocation (were one
    /// still referenced, `clear()` would allocate a fresh one — value semantics stay intact).
    private var spareRequestHead: ByteBuffer?
    private var spareResponseHead: ByteBuffer?
    /// Larger spare buffers are dropped rather than kept for the connection's lifetime.
    private static let maxSpareCapacity = 8 * 1024
    private var clientIP: String?
    /// A `read()` held back (back-pressure or pipelined bytes waiting).
    private var pendingRead = false
    /// Frames the client's bytes into requests.
    private var parser: HTTP1RequestParser
    /// Bytes read but not parsed yet: an incomplete head, or requests pipelined behind the one
    /// in flight.
    private var inbound: ByteBuffer?
    /// Graceful shutdown asked this connection to close after the response in flight.
    private var quiescing = false
    /// The lazily re-armed backend-timeout timer (one per connection, not per request).
    private var backendTimer: Scheduled<Void>?

    init(loop: LoopContext, scheme: String, timeouts: ClientTimeouts, logger: Logger) {
        self.loop = loop
        self.settings = loop.settings
        self.scheme = scheme
        self.timeouts = timeouts
        self.logger = logger
        self.parser = HTTP1RequestParser(maxHeadBytes: loop.settings.limits.maxHeaderBytes)
    }

    /// Whether the client can take more response bytes (backend reads wait otherwise).
    var canTakeResponseBytes: Bool { channel?.isWritable ?? false }

    // MARK: Channel lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.channel = context.channel
        self.allocator = context.channel.allocator
        if context.channel.isActive { connectionOpened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionOpened(context)
        context.fireChannelActive()
    }

    private func connectionOpened(_ context: ChannelHandlerContext) {
        guard clientIP == nil else { return }
        clientIP = context.channel.remoteAddress?.ipAddress ?? "unknown"
        timeouts.connectionOpened(context)
        loop.metrics.clientConnectionsOpened.add(1, ordering: .relaxed)
        loop.metrics.clientConnectionsOpen.add(1, ordering: .relaxed)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .proxying(let exchange) = state {
            abandon(exchange)
        }
        state = .closing
        inbound = nil
        backendTimer?.cancel()
        backendTimer = nil
        timeouts.connectionClosed()
        if clientIP != nil { loop.metrics.clientConnectionsOpen.subtract(1, ordering: .relaxed) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeouts.connectionClosed()
        self.context = nil
        self.channel = nil
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
        timeouts.bytesReceived()
        if case .closing = state { return }
        let bytes = unwrapInboundIn(data)
        if var pending = inbound {
            inbound = nil
            var more = bytes
            pending.writeBuffer(&more)
            inbound = pending
        } else {
            inbound = bytes
        }
        inChannelRead = true
        parseInbound()
        inChannelRead = false
        flushBackendIfPending()
    }

    /// Whether the parser may take the next bytes: between requests, or inside a request body
    /// being forwarded. Not while a finished request waits for its response (pipelining).
    private var mayParse: Bool {
        switch state {
        case .idle: true
        case .proxying(let exchange): !exchange.requestEnded
        case .closing: false
        }
    }

    /// Parses what ``inbound`` holds as far as the current state allows and acts on it.
    private func parseInbound() {
        guard var buffer = inbound else { return }
        inbound = nil
        while mayParse {
            let event: HTTP1RequestParser.Event?
            do {
                event = try parser.next(&buffer)
            } catch {
                return requestParseFailed(error)
            }
            guard let event else { break }
            switch event {
            case .head(let head): requestHeadReceived(head)
            case .body(let body): requestBodyReceived(body)
            case .end(let trailers): requestEndReceived(trailers)
            }
        }
        if case .closing = state { return }
        if buffer.readableBytes > 0 { inbound = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Not passed on: this is the pipeline's last handler (the tail ignores it).
        flushBackendIfPending()
    }

    /// Flushes what was written to `backend`: now, or (while a read from the client is being
    /// parsed) once at the end of that `channelRead` — one flush for the head, body parts and
    /// end that came in one read, instead of one per part (or a second, empty one).
    private func flushBackend(_ backend: BackendConnectionHandler) {
        if inChannelRead {
            backendFlushPending = true
        } else {
            backend.flush()
        }
    }

    private func flushBackendIfPending() {
        guard backendFlushPending else { return }
        backendFlushPending = false
        if case .proxying(let exchange) = state, let backend = exchange.backend { backend.flush() }
    }

    private func requestHeadReceived(_ head: HTTP1RequestHead) {
        timeouts.requestHeadReceived()
        guard case .idle = state, let context else { return }
        loop.metrics.requests.add(1, ordering: .relaxed)

        // The parser already refused both framings at once, differing lengths (RFC 9112 §6.1)
        // and a Connection naming a framing field; Host is checked here (RFC 9112 §3.2).
        do throws(HTTP1ParseError) {
            try head.validateHost()
        } catch {
            return reject(error.responseStatus)
        }
        if let length = head.summary.contentLength, length > settings.limits.maxBodyBytes {
            return reject(.payloadTooLarge)
        }

        let requestID = ProxyHeaders.requestID(from: head, generate: loop.nextRequestID)
        var forwardHead = takeSpare(&spareRequestHead, capacity: head.bytes.readableBytes + 160)
        ProxyHeaders.writeForwardRequest(head, clientIP: clientIP, scheme: scheme, requestID: requestID, into: &forwardHead)
        let sticky = settings.sticky.enabled ? ProxyHeaders.cookie(named: settings.sticky.cookie, in: head) : nil
        let now = NIODeadline.now()
        let exchange = ProxyExchange(
            method: head.method,
            clientVersion: head.version,
            clientKeepAlive: head.isKeepAlive && !quiescing,
            forwardHead: forwardHead,
            chunkedBody: head.summary.chunked,
            stickyServer: sticky,
            maxAttempts: settings.retries.maxAttempts,
            now: now
        )
        state = .proxying(exchange)
        startAttempt(exchange, isRetry: false, now: now)
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
        flushBackend(backend)
    }

    private func requestEndReceived(_ trailers: ByteBuffer?) {
        guard case .proxying(let exchange) = state, !exchange.requestEnded else { return }
        exchange.requestEnded = true
        exchange.trailers = trailers
        if let backend = exchange.backend {
            writeEnd(to: backend, exchange)
            flushBackend(backend)
        }
    }

    /// Ends the request body towards the backend (a last chunk for a chunked body).
    private func writeEnd(to backend: BackendConnectionHandler, _ exchange: ProxyExchange) {
        exchange.endWritten = true
        if exchange.chunkedBody {
            backend.write(HTTP1ChunkedEncoding.lastChunk(trailers: exchange.trailers, allocator: allocator), promise: nil)
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
        if exchange.chunkedBody {
            guard buffer.readableBytes > 0 else { return }
            backend.write(HTTP1ChunkedEncoding.chunkHeader(size: buffer.readableBytes, allocator: allocator), promise: nil)
            backend.write(buffer, promise: nil)
            backend.write(HTTP1ChunkedEncoding.chunkEnd(allocator: allocator), promise: nil)
        } else {
            backend.write(buffer, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // I/O errors (reset by peer and the like): the connection is done.
        if case .proxying(let exchange) = state { abandon(exchange) }
        closeClient()
    }

    /// The client's bytes are not a valid request: 400 (or 431), or a cut connection when the
    /// response to it had already started. Nothing after it on this connection can be trusted.
    private func requestParseFailed(_ error: HTTP1ParseError) {
        logger.debug("malformed request", metadata: ["lb.error": "\(error)"])
        switch state {
        case .idle:
            reject(error.responseStatus)
        case .proxying(let exchange):
            // Inside the body being forwarded (e.g. a bad chunk size): the exchange is void.
            abandon(exchange)
            exchange.responseStarted ? closeClient() : reject(error.responseStatus)
        case .closing:
            break
        }
    }

    // MARK: Attempts

    private func startAttempt(_ exchange: ProxyExchange, isRetry: Bool, now: NIODeadline = .now()) {
        let pick = loop.pool.pickServer(sticky: exchange.stickyServer, excluding: exchange.failedServers, isRetry: isRetry, now: now)
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
        exchange.lastActivity = now
        ensureBackendTimer(now: now)

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
        connection.attach(self, toHEAD: exchange.isHEAD)
        if exchange.retry.isIdempotent {
            // Whether it arrived does not matter for an idempotent request: no promise needed.
            exchange.headSent = true
            connection.write(exchange.forwardHead, promise: nil)
        } else {
            let attemptID = exchange.attemptID
            let headWritten = loop.eventLoop.makePromise(of: Void.self)
            headWritten.futureResult.assumeIsolated().whenSuccess {
                if exchange.attemptID == attemptID { exchange.headSent = true }
            }
            connection.write(exchange.forwardHead, promise: headWritten)
        }
        if !exchange.pendingBody.isEmpty {
            let pending = exchange.pendingBody
            exchange.pendingBody.removeAll()
            for buffer in pending { writeBody(buffer, to: connection, exchange) }
        }
        if exchange.requestEnded {
            writeEnd(to: connection, exchange)
        }
        flushBackend(connection)
        resumeClientReadIfPossible()
    }

    /// Makes sure the connection's backend-timeout timer is armed. It is one timer per
    /// connection that re-arms itself while an exchange waits on a backend (comparing the
    /// exchange's last activity with the clock), rather than a timer scheduled per request.
    private func ensureBackendTimer(now: NIODeadline) {
        guard backendTimer == nil else { return }
        armBackendTimer(at: now + settings.limits.backendTimeout)
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
        case .poisoned:
            loop.metrics.poisonedRequests.add(1, ordering: .relaxed)
            logger.warning(
                "request poisoned: two backends died of it, not tried on a third",
                metadata: ["lb.servers": "\(exchange.failedServers)"]
            )
            respondWithError(.badGateway, exchange)
        }
    }

    /// Reports the current attempt's outcome to the pool exactly once.
    private func report(_ exchange: ProxyExchange, outcome: BalancerStateMachine.RequestOutcome, now: NIODeadline = .now()) {
        guard let server = exchange.server else { return }
        exchange.server = nil
        if case .serverEjected(let name) = loop.pool.requestFinished(server: server.name, outcome: outcome, now: now) {
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

    /// Body bytes arriving with the response head are appended to it (one write to the client)
    /// up to this size; larger ones are written as the slices they are.
    private static let coalesceLimit = 8 * 1024

    /// `now`: when the backend's bytes were read (one clock read per read from the backend).
    func backendReceived(
        _ event: HTTP1ResponseParser.Event,
        from connection: BackendConnectionHandler,
        bodyEndsWithConnection: Bool,
        now: NIODeadline
    ) {
        guard case .proxying(let exchange) = state, exchange.backend === connection, let context else {
            connection.close()
            return
        }
        switch event {
        case .head(let head):
            exchange.lastActivity = now
            if head.status < 200 {
                // 1xx (e.g. 100 Continue) go through as they are; 101 upgrades are not supported.
                guard head.status != 101 else {
                    return attemptFailed(exchange, phase: .noResponse, outcome: .broken)
                }
                if exchange.clientVersion != .http1_0 {
                    var out = allocator.buffer(capacity: head.bytes.readableBytes)
                    ProxyHeaders.writeInformational(head, clientVersion: exchange.clientVersion, into: &out)
                    context.write(wrapOutboundOut(out), promise: nil)
                }
                return
            }
            responseHeadReceived(head, exchange, bodyEndsWithConnection: bodyEndsWithConnection, context: context)
        case .body(let buffer):
            exchange.lastActivity = now
            switch exchange.responseFraming {
            case .asReceived:
                if var unsent = exchange.unsentResponse {
                    exchange.unsentResponse = nil
                    if buffer.readableBytes <= Self.coalesceLimit {
                        unsent.writeImmutableBuffer(buffer)
                        exchange.unsentResponse = unsent
                        return
                    }
                    context.write(wrapOutboundOut(unsent), promise: nil)
                }
                context.write(wrapOutboundOut(buffer), promise: nil)
            case .chunked:
                guard buffer.readableBytes > 0 else { return }
                writeUnsentResponse(exchange, context: context)
                context.write(wrapOutboundOut(HTTP1ChunkedEncoding.chunkHeader(size: buffer.readableBytes, allocator: allocator)), promise: nil)
                context.write(wrapOutboundOut(buffer), promise: nil)
                context.write(wrapOutboundOut(HTTP1ChunkedEncoding.chunkEnd(allocator: allocator)), promise: nil)
            }
        case .end(let trailers):
            responseEnded(exchange, trailers: trailers, context: context, now: now)
        }
    }

    /// Writes the prepared response head (and body bytes appended to it), if not written yet.
    private func writeUnsentResponse(_ exchange: ProxyExchange, context: ChannelHandlerContext) {
        if let unsent = exchange.unsentResponse {
            exchange.unsentResponse = nil
            context.write(wrapOutboundOut(unsent), promise: nil)
            if unsent.capacity <= Self.maxSpareCapacity { spareResponseHead = unsent }
        }
    }

    /// An empty buffer for a head: the spare one if there is one, else a new one.
    private func takeSpare(_ spare: inout ByteBuffer?, capacity: Int) -> ByteBuffer {
        guard var buffer = spare else { return allocator.buffer(capacity: capacity) }
        spare = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// A backend's final response head: decide the framing towards the client and send the head.
    private func responseHeadReceived(
        _ head: HTTP1ResponseHead,
        _ exchange: ProxyExchange,
        bodyEndsWithConnection: Bool,
        context: ChannelHandlerContext
    ) {
        exchange.responseStatus = head.status
        exchange.backendKeepAlive = head.isKeepAlive && !bodyEndsWithConnection
        let hasLength = head.summary.contentLength != nil
        if exchange.clientVersion == .http1_0 && !hasLength {
            exchange.clientKeepAlive = false
        }
        let hasBody = !exchange.isHEAD && !head.statusForbidsBody
        // An HTTP/1.1 client gets a body without a length chunked (as the backend sent it, or
        // because the backend delimits it by closing); an HTTP/1.0 one gets it delimited by the close.
        let chunked: Bool
        if exchange.clientVersion == .http1_0 || hasLength {
            chunked = false
        } else if hasBody {
            chunked = head.summary.chunked || bodyEndsWithConnection
        } else {
            // No body follows; only the field the backend sent is kept (as a HEAD answer describes).
            chunked = head.summary.chunked
        }
        exchange.responseFraming = chunked && hasBody ? .chunked : .asReceived
        var cookie: String?
        if settings.sticky.enabled, let server = exchange.server, !server.stickyHonoured {
            cookie = "\(settings.sticky.cookie)=\(server.name); Path=/; HttpOnly; SameSite=Lax"
        }
        var out = takeSpare(&spareResponseHead, capacity: head.bytes.readableBytes + 64)
        ProxyHeaders.writeForwardResponse(
            head,
            clientVersion: exchange.clientVersion,
            keepAlive: exchange.clientKeepAlive,
            chunked: chunked,
            setCookie: cookie,
            into: &out
        )
        // Written when the read from the backend ends (or the response does), together with
        // the body bytes that came in the same read.
        exchange.unsentResponse = out
    }

    func backendReadComplete() {
        guard let context else { return }
        if case .proxying(let exchange) = state { writeUnsentResponse(exchange, context: context) }
        context.flush()
    }

    private func responseEnded(_ exchange: ProxyExchange, trailers: ByteBuffer?, context: ChannelHandlerContext, now: NIODeadline) {
        let status = exchange.responseStatus ?? 502
        writeUnsentResponse(exchange, context: context)
        report(exchange, outcome: .response(status: status), now: now)
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
        // A chunked response ends with its last chunk; any other is complete with its bytes.
        var last: ByteBuffer?
        if case .chunked = exchange.responseFraming {
            last = HTTP1ChunkedEncoding.lastChunk(trailers: trailers, allocator: allocator)
        }
        // A client still sending a body we no longer need is cut off after the response.
        if !exchange.clientKeepAlive || !exchange.requestEnded {
            state = .closing
            inbound = nil
            let lastBytes = last ?? allocator.buffer(capacity: 0)
            context.writeAndFlush(wrapOutboundOut(lastBytes)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        state = .idle
        if exchange.forwardHead.capacity <= Self.maxSpareCapacity { spareRequestHead = exchange.forwardHead }
        timeouts.exchangeCompleted(now: now)
        // Flushed here: the backend connection is detached now, its read-complete won't reach us.
        if let last { context.write(wrapOutboundOut(last), promise: nil) }
        context.flush()
        if inbound != nil {
            parseInbound()
        }
        resumeClientReadIfPossible()
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
        if mustHoldReads {
            pendingRead = true
            return
        }
        context.read()
    }

    /// Reads wait while pipelined bytes wait for the response in flight, and while a request
    /// body has nowhere to go (no backend yet, or its socket is full).
    private var mustHoldReads: Bool {
        guard case .proxying(let exchange) = state else { return false }
        if exchange.requestEnded { return inbound != nil }
        return exchange.backend == nil || !(exchange.backend?.isWritable ?? false)
    }

    private func resumeClientReadIfPossible() {
        guard pendingRead, let context, !mustHoldReads else { return }
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
        inbound = nil
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
        state = close ? .closing : .idle
        let response = ProxyHeaders.errorResponse(status, version: version, close: close, allocator: allocator)
        let written = context.writeAndFlush(wrapOutboundOut(response))
        if close {
            inbound = nil
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            timeouts.exchangeCompleted(now: .now())
            if inbound != nil { parseInbound() }
            resumeClientReadIfPossible()
        }
    }

    private func closeClient() {
        state = .closing
        inbound = nil
        context?.close(promise: nil)
    }
}
