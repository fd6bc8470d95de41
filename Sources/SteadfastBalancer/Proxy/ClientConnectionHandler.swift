import Logging
import NIOCore
import NIOHTTP1

/// The heart of the data plane: the last handler of a client connection, a thin driver of one
/// ``ProxyExchangeStateMachine``. It frames the client's bytes itself with an
/// ``HTTP1RequestParser`` (no HTTP codec in the pipeline: only the request line, framing and the
/// few fields the proxy acts on are parsed; the other field lines and all body bytes are
/// forwarded as slices of what was read), feeds what it parsed and what the backend connection
/// and timers report to the state machine, and executes the actions it returns: asking the
/// ``ServerPool`` for a server, taking a keep-alive connection from this loop's
/// ``BackendConnectionPool`` (or opening one on the same loop), writing request bytes to the
/// backend and response bytes to the client as they arrive, with back-pressure passed across
/// through `read()` and writability (nothing is buffered whole). Every decision — retries,
/// limits, framing, keep-alive, error answers — is the state machine's.
///
/// Pipelining costs nothing extra: bytes of requests a client pipelines behind the current one
/// stay unparsed (reads pause only then) until the current response ends;
/// `ChannelShouldQuiesceEvent` closes the connection once the in-flight response is done.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private typealias Machine = ProxyExchangeStateMachine

    private var machine: ProxyExchangeStateMachine
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
    /// The backend connection of the current attempt (the machine's `connected` attempt) and
    /// the pool it goes back to.
    private var backend: BackendConnectionHandler?
    private var backendPool: BackendConnectionPool?
    /// Inside `channelRead`: backend writes are flushed once, when the read has been parsed.
    private var inChannelRead = false
    /// Bytes were written to the current backend during this read burst and not flushed yet.
    private var backendFlushPending = false
    /// The response head (and any body bytes that came with it) prepared for the client but not
    /// written yet: written as one buffer when the read from the backend ends, so a small
    /// response costs the client channel one write instead of one per part.
    private var unsentResponse: ByteBuffer?
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
    /// The lazily re-armed backend-timeout timer (one per connection, not per request).
    private var backendTimer: Scheduled<Void>?

    init(loop: LoopContext, scheme: String, timeouts: ClientTimeouts, logger: Logger) {
        self.loop = loop
        self.settings = loop.settings
        self.scheme = scheme
        self.timeouts = timeouts
        self.logger = logger
        self.parser = HTTP1RequestParser(maxHeadBytes: loop.settings.limits.maxHeaderBytes)
        self.machine = ProxyExchangeStateMachine(
            configuration: .init(
                maxBodyBytes: loop.settings.limits.maxBodyBytes,
                replayBodyBytes: loop.settings.retries.replayBodyBytes,
                maxAttempts: loop.settings.retries.maxAttempts,
                backendTimeout: loop.settings.limits.backendTimeout,
                stickyEnabled: loop.settings.sticky.enabled
            )
        )
    }

    /// Whether the client can take more response bytes (backend reads wait otherwise).
    var canTakeResponseBytes: Bool { channel?.isWritable ?? false }

    private var isClosed: Bool {
        if case .closed = machine.state { return true }
        return false
    }

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
        run(machine.clientClosed())
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
        run(machine.quiesce())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // I/O errors (reset by peer and the like): the connection is done.
        run(machine.clientError())
    }

    // MARK: Requests from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timeouts.bytesReceived()
        if isClosed { return }
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

    /// Parses what ``inbound`` holds as far as the state machine allows and feeds it the events.
    private func parseInbound() {
        guard var buffer = inbound else { return }
        inbound = nil
        while machine.mayParseRequest {
            let event: HTTP1RequestParser.Event?
            do {
                event = try parser.next(&buffer)
            } catch {
                logger.debug("malformed request", metadata: ["lb.error": "\(error)"])
                return run(machine.requestParseFailed(error.responseStatus))
            }
            guard let event else { break }
            switch event {
            case .head(let head): requestHeadReceived(head)
            case .body(let body): run(machine.requestBodyReceived(body, now: .now()))
            case .end(let trailers): run(machine.requestEndReceived(trailers: trailers))
            }
        }
        if isClosed { return }
        if buffer.readableBytes > 0 { inbound = buffer }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Not passed on: this is the pipeline's last handler (the tail ignores it).
        flushBackendIfPending()
    }

    private func requestHeadReceived(_ head: HTTP1RequestHead) {
        timeouts.requestHeadReceived()
        loop.metrics.requests.add(1, ordering: .relaxed)
        // The parser already refused both framings at once, differing lengths (RFC 9112 §6.1)
        // and a Connection naming a framing field; Host is checked here (RFC 9112 §3.2).
        do throws(HTTP1ParseError) {
            try head.validateHost()
        } catch {
            return run(machine.requestParseFailed(error.responseStatus))
        }
        let requestID = ProxyHeaders.requestID(from: head, generate: loop.nextRequestID)
        var forwardHead = takeSpare(&spareRequestHead, capacity: head.bytes.readableBytes + 160)
        ProxyHeaders.writeForwardRequest(head, clientIP: clientIP, scheme: scheme, requestID: requestID, into: &forwardHead)
        let sticky = settings.sticky.enabled ? ProxyHeaders.cookie(named: settings.sticky.cookie, in: head) : nil
        let now = NIODeadline.now()
        let request = Machine.RequestHead(
            method: head.method,
            version: head.version,
            keepAlive: head.isKeepAlive,
            contentLength: head.summary.contentLength,
            chunked: head.summary.chunked,
            forwardHead: forwardHead,
            stickyServer: sticky
        )
        run(machine.requestHeadReceived(request, now: now), now: now)
    }

    // MARK: Executing the state machine's actions

    /// Executes `action`; `now`, when the caller has read the clock already.
    private func run(_ action: Machine.Action, now: NIODeadline? = nil) {
        switch action {
        case .none, .releaseStaleBackend:
            break
        case .pickServer(let sticky, let excluding, let isRetry):
            pickServer(sticky: sticky, excluding: excluding, isRetry: isRetry, now: now ?? .now())
        case .connect(let server, let attemptID):
            connect(to: server, attemptID: attemptID, now: now ?? .now())
        case .sendRequest(let write):
            sendRequest(write)
        case .writeRequestBody(let buffer, let chunked):
            guard let backend else { return }
            writeBody(buffer, chunked: chunked, to: backend)
            flushBackend(backend)
        case .writeRequestEnd(let chunked, let trailers):
            guard let backend else { return }
            if chunked {
                backend.write(HTTP1ChunkedEncoding.lastChunk(trailers: trailers, allocator: allocator), promise: nil)
            }
            flushBackend(backend)
        case .forwardInformational, .forwardResponseHead, .forwardResponseBody, .finishResponse:
            // Produced only by backend events, which execute them with the response bytes at hand.
            assertionFailure("response action outside a backend event: \(action)")
        case .endAttempt(let end, let next):
            endAttempt(end)
            runNext(next)
        case .rearmBackendTimer(let deadline):
            armBackendTimer(at: deadline)
        case .closeClient:
            closeClient()
        case .reject(let status):
            reject(status)
        }
    }

    private func runNext(_ next: Machine.Next) {
        switch next {
        case .none:
            break
        case .pickServer(let sticky, let excluding, let isRetry):
            pickServer(sticky: sticky, excluding: excluding, isRetry: isRetry, now: .now())
        case .askRetryBudget:
            let granted = loop.pool.tryWithdrawRetry()
            run(machine.retryBudgetDecided(granted: granted, now: .now()))
        case .respond(let response):
            writeErrorResponse(response)
        case .reject(let status):
            reject(status)
        case .poisoned(let response, let servers):
            loop.metrics.poisonedRequests.add(1, ordering: .relaxed)
            logger.warning(
                "request poisoned: two backends died of it, not tried on a third",
                metadata: ["lb.servers": "\(servers)"]
            )
            writeErrorResponse(response)
        case .closeClient:
            closeClient()
        }
    }

    private func pickServer(sticky: String?, excluding: [String], isRetry: Bool, now: NIODeadline) {
        if isRetry { loop.metrics.retries.add(1, ordering: .relaxed) }
        let pick = loop.pool.pickServer(sticky: sticky, excluding: excluding, isRetry: isRetry, now: now)
        if case .noServerAvailable = pick { loop.metrics.noServerAvailable.add(1, ordering: .relaxed) }
        run(machine.serverPicked(pick, now: now), now: now)
    }

    private func connect(to server: BalancerStateMachine.Choice, attemptID: Int, now: NIODeadline) {
        ensureBackendTimer(now: now)
        let pool = loop.backendPool(for: server)
        if let connection = pool.takeIdle() {
            return backendConnected(connection, pool: pool, attemptID: attemptID)
        }
        pool.connect(timeout: settings.limits.backendConnectTimeout).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let connection):
                self.backendConnected(connection, pool: pool, attemptID: attemptID)
            case .failure(let error):
                let action = self.machine.backendConnectFailed(attemptID: attemptID)
                if case .endAttempt = action {
                    self.logger.debug("backend connect failed", metadata: ["lb.backend": "\(server.name)", "lb.error": "\(error)"])
                }
                self.run(action)
            }
        }
    }

    private func backendConnected(_ connection: BackendConnectionHandler, pool: BackendConnectionPool, attemptID: Int) {
        let action = machine.backendConnected(attemptID: attemptID)
        guard case .sendRequest = action else {
            // The attempt was given up meanwhile; the fresh connection can serve someone else.
            pool.release(connection, maxIdle: settings.limits.maxIdleConnectionsPerBackend)
            return
        }
        backend = connection
        backendPool = pool
        run(action)
    }

    private func sendRequest(_ write: Machine.RequestWrite) {
        guard let backend else { return }
        backend.attach(self, toHEAD: write.toHEAD)
        if write.reportHeadWritten {
            let attemptID = write.attemptID
            let headWritten = loop.eventLoop.makePromise(of: Void.self)
            headWritten.futureResult.assumeIsolated().whenSuccess { [self] in
                self.run(self.machine.requestHeadWritten(attemptID: attemptID))
            }
            backend.write(write.head, promise: headWritten)
        } else {
            // Whether it arrived does not matter for an idempotent request: no promise needed.
            backend.write(write.head, promise: nil)
        }
        for buffer in write.body { writeBody(buffer, chunked: write.chunked, to: backend) }
        if write.end && write.chunked {
            backend.write(HTTP1ChunkedEncoding.lastChunk(trailers: write.trailers, allocator: allocator), promise: nil)
        }
        flushBackend(backend)
        resumeClientReadIfPossible()
    }

    private func writeBody(_ buffer: ByteBuffer, chunked: Bool, to backend: BackendConnectionHandler) {
        if chunked {
            guard buffer.readableBytes > 0 else { return }
            backend.write(HTTP1ChunkedEncoding.chunkHeader(size: buffer.readableBytes, allocator: allocator), promise: nil)
            backend.write(buffer, promise: nil)
            backend.write(HTTP1ChunkedEncoding.chunkEnd(allocator: allocator), promise: nil)
        } else {
            backend.write(buffer, promise: nil)
        }
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
        backend?.flush()
    }

    /// Closes the attempt's backend connection if told, and reports the attempt's outcome.
    private func endAttempt(_ end: Machine.AttemptEnd) {
        if end.closeBackend, let backend {
            self.backend = nil
            backend.close()
        }
        backendPool = nil
        unsentResponse = nil
        if let report = end.report { self.report(report, now: .now()) }
    }

    private func report(_ report: Machine.Report, now: NIODeadline) {
        if case .serverEjected(let name) = loop.pool.requestFinished(server: report.server, outcome: report.outcome, now: now) {
            logger.warning("server ejected after consecutive failures", metadata: ["lb.backend": "\(name)"])
        }
    }

    // MARK: The backend timeout

    /// Makes sure the connection's backend-timeout timer is armed. It is one timer per
    /// connection that re-arms itself while an attempt is in flight (the state machine compares
    /// the last activity with the clock), rather than a timer scheduled per request.
    private func ensureBackendTimer(now: NIODeadline) {
        guard backendTimer == nil else { return }
        armBackendTimer(at: now + settings.limits.backendTimeout)
    }

    private func armBackendTimer(at deadline: NIODeadline) {
        backendTimer = loop.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.backendTimer = nil
            let server = self.machine.currentServer
            let action = self.machine.backendTimerFired(now: .now())
            if case .endAttempt = action {
                self.logger.debug("backend timeout", metadata: ["lb.backend": "\(server ?? "-")"])
            }
            self.run(action)
        }
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
        guard connection === backend, let context else {
            connection.close()
            return
        }
        switch event {
        case .head(let head):
            let response = Machine.ResponseHead(
                status: head.status,
                keepAlive: head.isKeepAlive,
                hasContentLength: head.summary.contentLength != nil,
                chunked: head.summary.chunked,
                statusForbidsBody: head.statusForbidsBody
            )
            switch machine.responseHeadReceived(response, bodyEndsWithConnection: bodyEndsWithConnection, now: now) {
            case .forwardInformational(let clientVersion):
                var out = allocator.buffer(capacity: head.bytes.readableBytes)
                ProxyHeaders.writeInformational(head, clientVersion: clientVersion, into: &out)
                context.write(wrapOutboundOut(out), promise: nil)
            case .forwardResponseHead(let plan):
                var cookie: String?
                if let server = plan.stickyServer {
                    cookie = "\(settings.sticky.cookie)=\(server); Path=/; HttpOnly; SameSite=Lax"
                }
                var out = takeSpare(&spareResponseHead, capacity: head.bytes.readableBytes + 64)
                ProxyHeaders.writeForwardResponse(
                    head,
                    clientVersion: plan.clientVersion,
                    keepAlive: plan.keepAlive,
                    chunked: plan.chunked,
                    setCookie: cookie,
                    into: &out
                )
                // Written when the read from the backend ends (or the response does), together
                // with the body bytes that came in the same read.
                unsentResponse = out
            case let other:
                run(other)
            }
        case .body(let buffer):
            let action = machine.responseBodyReceived(now: now)
            guard case .forwardResponseBody(let chunked) = action else { return run(action) }
            if !chunked {
                if var unsent = unsentResponse {
                    unsentResponse = nil
                    if buffer.readableBytes <= Self.coalesceLimit {
                        unsent.writeImmutableBuffer(buffer)
                        unsentResponse = unsent
                        return
                    }
                    context.write(wrapOutboundOut(unsent), promise: nil)
                }
                context.write(wrapOutboundOut(buffer), promise: nil)
            } else {
                guard buffer.readableBytes > 0 else { return }
                writeUnsentResponse(context: context)
                context.write(wrapOutboundOut(HTTP1ChunkedEncoding.chunkHeader(size: buffer.readableBytes, allocator: allocator)), promise: nil)
                context.write(wrapOutboundOut(buffer), promise: nil)
                context.write(wrapOutboundOut(HTTP1ChunkedEncoding.chunkEnd(allocator: allocator)), promise: nil)
            }
        case .end(let trailers):
            let action = machine.responseEndReceived(now: now)
            guard case .finishResponse(let end) = action else { return run(action) }
            responseEnded(end, trailers: trailers, context: context, now: now)
        }
    }

    /// Writes the prepared response head (and body bytes appended to it), if not written yet.
    private func writeUnsentResponse(context: ChannelHandlerContext) {
        if let unsent = unsentResponse {
            unsentResponse = nil
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

    func backendReadComplete() {
        guard let context else { return }
        writeUnsentResponse(context: context)
        context.flush()
    }

    private func responseEnded(_ end: Machine.ResponseEnd, trailers: ByteBuffer?, context: ChannelHandlerContext, now: NIODeadline) {
        writeUnsentResponse(context: context)
        if let report = end.report { self.report(report, now: now) }
        loop.metrics.countResponse(status: end.status)

        if let backend {
            self.backend = nil
            backend.detach()
            if end.releaseBackend, let pool = backendPool {
                pool.release(backend, maxIdle: settings.limits.maxIdleConnectionsPerBackend)
            } else {
                backend.close()
            }
        }
        backendPool = nil
        // A chunked response ends with its last chunk; any other is complete with its bytes.
        let last = end.lastChunk ? HTTP1ChunkedEncoding.lastChunk(trailers: trailers, allocator: allocator) : nil
        if end.closeClient {
            inbound = nil
            let lastBytes = last ?? allocator.buffer(capacity: 0)
            context.writeAndFlush(wrapOutboundOut(lastBytes)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        if let head = end.spareHead, head.capacity <= Self.maxSpareCapacity { spareRequestHead = head }
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
        guard connection === backend else { return }
        backend = nil
        run(machine.backendClosed())
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
        switch machine.readPolicy {
        case .read: false
        case .holdWhilePipelinedBytesWait: inbound != nil
        case .holdUnlessBackendWritable: !(backend?.isWritable ?? false)
        case .hold: true
        }
    }

    private func resumeClientReadIfPossible() {
        guard pendingRead, let context, !mustHoldReads else { return }
        pendingRead = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { backend?.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Answers of our own

    /// A malformed or over-limit request: answer and close (the rest of its bytes are unusable).
    private func reject(_ status: HTTPResponseStatus) {
        loop.metrics.rejectedRequests.add(1, ordering: .relaxed)
        inbound = nil
        writeErrorResponse(.init(status: status, version: .http1_1, close: true))
    }

    private func writeErrorResponse(_ response: Machine.ErrorResponse) {
        guard let context else { return }
        loop.metrics.countResponse(status: Int(response.status.code))
        let bytes = ProxyHeaders.errorResponse(response.status, version: response.version, close: response.close, allocator: allocator)
        let written = context.writeAndFlush(wrapOutboundOut(bytes))
        if response.close {
            inbound = nil
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            timeouts.exchangeCompleted(now: .now())
            if inbound != nil { parseInbound() }
            resumeClientReadIfPossible()
        }
    }

    private func closeClient() {
        inbound = nil
        context?.close(promise: nil)
    }
}
