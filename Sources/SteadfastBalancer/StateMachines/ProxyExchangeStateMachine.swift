import NIOCore
import NIOHTTP1

/// The life of one client connection of the proxy and of the request it is forwarding: which
/// request is in flight, which attempt carries it to which server, what of its body was sent and
/// may be replayed, how its response is framed towards the client, and when the connection ends.
///
/// Pure, as the other state machines here: events in, actions out, time passed in as `now`. It
/// does no I/O and holds no channel; ``ClientConnectionHandler`` parses bytes, feeds the events
/// and executes the actions (writes, the server pool, the backend connection pool, timers,
/// metrics). Whether a failed attempt is retried is decided by the exchange's
/// ``RetryStateMachine``. Every event is defined in every state: one that cannot happen in a
/// state (a bug elsewhere, or a peer breaking the protocol) gets a defined action — ignored when
/// the connection is already closing, otherwise the attempt is given up and the client
/// connection closed — never a crash.
///
/// Connection states: `idle` (waiting for a request head), `exchange` (one request in flight;
/// its attempt is `choosingServer`, `awaitingRetryBudget`, `connecting(id)`, `connected(id)`
/// or `none` once it ended), `closed` (an answer that ends the connection is being written, or
/// the connection is gone).
///
/// | State | Event | Condition | Next state | Action |
/// | --- | --- | --- | --- | --- |
/// | `idle` | `requestHead` | `Content-Length` > `maxBodyBytes` | `closed` | `.reject(413)` |
/// | `idle` | `requestHead` | otherwise | `exchange`, `choosingServer` | `.pickServer(isRetry: false)` |
/// | `idle` | `requestParseFailed(s)` | — | `closed` | `.reject(s)` |
/// | `idle` | `quiesce` | — | `closed` | `.closeClient` |
/// | `idle` | `requestBody`, `requestEnd`, a response event, `serverPicked`, `retryBudgetDecided` | (cannot happen) | `closed` | `.closeClient` |
/// | `idle` | `backendConnected(id)` | a late connection of an old attempt | `idle` | `.releaseStaleBackend` |
/// | `idle` | `backendConnectFailed`, `requestHeadWritten`, `backendClosed`, `backendTimerFired` | late news of an old attempt | `idle` | `.none` |
/// | `idle` | `clientClosed` / `clientError` | — | `closed` | `.none` / `.closeClient` |
/// | `exchange` | `serverPicked(.forward)` | `choosingServer` | `connecting(id)` | `.connect(server, id)` |
/// | `exchange` | `serverPicked(.noServerAvailable)` | first attempt | `idle`/`closed` | `.endAttempt(then: .respond(503))` |
/// | `exchange` | `serverPicked(.noServerAvailable)` | a retry | `idle`/`closed` | `.endAttempt(then: .respond(503 after connect failures, else 502))` |
/// | `exchange` | `backendConnected(id)` | `connecting(id)` | `connected(id)` | `.sendRequest` (head, body held so far, end if received) |
/// | `exchange` | `backendConnected(id)` | another attempt | unchanged | `.releaseStaleBackend` |
/// | `exchange` | `backendConnectFailed(id)` | `connecting(id)` | see *attempt failed* (`connectFailed`) | |
/// | `exchange` | `requestHeadWritten(id)` | `connected(id)` | unchanged (head sent) | `.none` |
/// | `exchange` | `requestBody` | body total > `maxBodyBytes`, response not started | `closed` | `.endAttempt(then: .reject(413))` |
/// | `exchange` | `requestBody` | body total > `maxBodyBytes`, response started | `closed` | `.endAttempt(then: .closeClient)` |
/// | `exchange` | `requestBody` | `connected` | unchanged | `.writeRequestBody` (kept for replay while ≤ `replayBodyBytes`) |
/// | `exchange` | `requestBody` | not connected | unchanged (held) | `.none` |
/// | `exchange` | `requestEnd` | `connected` | request ended | `.writeRequestEnd` |
/// | `exchange` | `requestEnd` | not connected | request ended (held) | `.none` |
/// | `exchange` | `requestParseFailed(s)` | response not started | `closed` | `.endAttempt(then: .reject(s))` |
/// | `exchange` | `requestParseFailed(s)` | response started | `closed` | `.endAttempt(then: .closeClient)` |
/// | `exchange` | `requestHead` | (cannot happen: parsing waits) | `closed` | `.endAttempt(then: .closeClient)` |
/// | `exchange` | `responseHead(1xx)` | `connected`, not 101 | unchanged | `.forwardInformational` (HTTP/1.1 client) or `.none` (HTTP/1.0) |
/// | `exchange` | `responseHead(101)` | `connected` | see *attempt failed* (`noResponse`, broken) | |
/// | `exchange` | `responseHead(final)` | `connected`, no response yet | response started | `.forwardResponseHead(plan)` |
/// | `exchange` | `responseBody` | response started | unchanged | `.forwardResponseBody(chunked:)` |
/// | `exchange` | `responseEnd` | response started, keep-alive and request ended | `idle` | `.finishResponse(closeClient: false)` |
/// | `exchange` | `responseEnd` | response started, otherwise | `closed` | `.finishResponse(closeClient: true)` |
/// | `exchange` | `responseHead` again, body or end before a head | (broken backend) | see *attempt failed* | |
/// | `exchange` | `backendClosed` | `connected`, response started | see *attempt failed* (`responseStarted`) | |
/// | `exchange` | `backendClosed` | `connected`, head sent | see *attempt failed* (`noResponse`) | |
/// | `exchange` | `backendClosed` | `connected`, head not known sent | see *attempt failed* (`connectFailed`) | |
/// | `exchange` | `backendTimerFired` | `connecting`/`connected`, silence < `backendTimeout` | unchanged | `.rearmBackendTimer(at:)` |
/// | `exchange` | `backendTimerFired` | `connecting`/`connected`, silence ≥ `backendTimeout` | see *attempt failed* (`timedOut`, or `responseStarted`) | |
/// | `exchange` | `retryBudgetDecided(true)` | `awaitingRetryBudget` | `choosingServer` | `.pickServer(isRetry: true)` |
/// | `exchange` | `retryBudgetDecided(false)` | `awaitingRetryBudget` | `idle`/`closed` | `.endAttempt(then: .respond(502))` |
/// | `exchange` | `serverPicked` while not `choosingServer`, `retryBudgetDecided` while not `awaitingRetryBudget`, a response event while not `connected` | (cannot happen) | `closed` | `.endAttempt(then: .closeClient)` |
/// | `exchange` | `backendConnectFailed(id)`, `requestHeadWritten(id)`, `backendClosed` | another attempt, not `connected` | unchanged | `.none` |
/// | `exchange` | `quiesce` | — | unchanged, no keep-alive | `.none` |
/// | `exchange` | `clientClosed` | — | `closed` | `.endAttempt(then: .none)` (abandoned) |
/// | `exchange` | `clientError` | — | `closed` | `.endAttempt(then: .closeClient)` (abandoned) |
/// | `closed` | any | — | `closed` | `.none` (a stale connection: `.releaseStaleBackend`) |
///
/// *Attempt failed* (phase, outcome): the backend connection is closed, the server is reported
/// with the outcome and excluded from later attempts, then ``RetryStateMachine`` decides:
/// `.retry(spendsBudget: false)` → `choosingServer`, `.endAttempt(then: .pickServer(isRetry: true))`;
/// `.retry(spendsBudget: true)` → `awaitingRetryBudget`, `.endAttempt(then: .askRetryBudget)`;
/// a retry whose body was not kept → `.respond(502)`; `.respond(s)` → `.respond(s)`;
/// `.closeClientConnection` → `closed`, `.closeClient`; `.poisoned` → `.poisoned(502)`. An error
/// answer keeps the connection (`idle`) only when the client wants keep-alive and its request
/// ended; otherwise it closes it (`closed`).
struct ProxyExchangeStateMachine {
    /// The limits one client connection works with (fixed when the connection is accepted).
    struct Configuration: Equatable {
        var maxBodyBytes: Int
        var replayBodyBytes: Int
        var maxAttempts: Int
        var backendTimeout: TimeAmount
        var stickyEnabled: Bool
    }

    /// What the machine needs of a request head; the driver has parsed, validated and rewritten it.
    struct RequestHead {
        var method: HTTPMethod
        var version: HTTPVersion
        var keepAlive: Bool
        var contentLength: Int?
        /// The body is chunked: it goes to backends re-framed chunk by chunk.
        var chunked: Bool
        /// The head's bytes as sent to backends; written again as is for a retry.
        var forwardHead: ByteBuffer
        /// The server named by the client's sticky cookie.
        var stickyServer: String?
    }

    /// What the machine needs of a backend's response head.
    struct ResponseHead: Equatable {
        var status: Int
        var keepAlive: Bool
        var hasContentLength: Bool
        var chunked: Bool
        var statusForbidsBody: Bool
    }

    /// The connection's state. In `exchange` the request in flight is ``exchange``; it is kept
    /// outside the enum so that every event mutates it in place (a payload taken out of an enum
    /// and put back is a copy of every field, which on this path costs measurable throughput).
    enum State: Equatable {
        case idle
        case exchange
        case closed
    }

    /// Where the current attempt of the exchange is.
    enum Attempt: Equatable {
        /// Waiting for the server pool to name a server.
        case choosingServer
        /// Waiting for the retry budget to allow a retry.
        case awaitingRetryBudget
        /// A connection to `server` is being opened (or taken from the pool).
        case connecting(server: BalancerStateMachine.Choice, id: Int)
        /// The request goes to `server` on a backend connection. `headSent`: the head is known to
        /// have reached the backend's socket (an idempotent request counts as sent when written).
        case connected(server: BalancerStateMachine.Choice, id: Int, headSent: Bool)
        /// No attempt: the exchange is being answered by the proxy itself or is over.
        case none

        var server: BalancerStateMachine.Choice? {
            switch self {
            case .connecting(let server, _), .connected(let server, _, _): server
            default: nil
            }
        }
    }

    /// How response body bytes are framed towards the client.
    enum ResponseFraming: Equatable {
        /// As they are (a `Content-Length` body, no body, or one the HTTP/1.0 client's connection
        /// delimits by closing).
        case asReceived
        /// Each slice is re-framed as a chunk, and a last chunk ends the body.
        case chunked
    }

    /// One request in flight.
    struct Exchange {
        let isHEAD: Bool
        let version: HTTPVersion
        var clientKeepAlive: Bool
        let forwardHead: ByteBuffer
        let chunkedBody: Bool
        let stickyServer: String?
        var retry: RetryStateMachine
        var attempt: Attempt = .choosingServer
        /// Servers that failed this request, so a retry goes elsewhere.
        var failedServers: [String] = []
        var lastFailurePhase: RetryStateMachine.FailurePhase = .connectFailed
        /// Request body bytes received so far (for the body limit).
        var bodyBytes = 0
        /// Body parts received but not yet written to a backend.
        var pendingBody: [ByteBuffer] = []
        /// Body parts written in this attempt, kept while small enough to be replayed.
        var sentBody: [ByteBuffer] = []
        var sentBytes = 0
        var bodyWrittenThisAttempt = false
        var requestEnded = false
        var trailers: ByteBuffer?
        /// The request's end was written to the current backend.
        var endWritten = false
        /// Status of the final response head, once received.
        var responseStatus: Int?
        var backendKeepAlive = true
        var responseFraming: ResponseFraming = .asReceived
        /// Last sign of life from the backend, or of progress on the request.
        var lastActivity: NIODeadline

        var responseStarted: Bool { responseStatus != nil }
    }

    /// An outcome to report to the server pool (exactly once per attempt).
    struct Report: Equatable {
        var server: String
        var outcome: BalancerStateMachine.RequestOutcome
    }

    /// The end of the current attempt before any response completed it.
    struct AttemptEnd: Equatable {
        /// Close the attempt's backend connection (it carries a request nobody will finish).
        var closeBackend: Bool
        var report: Report?
    }

    /// An answer of the proxy itself to the current request.
    struct ErrorResponse: Equatable {
        var status: HTTPResponseStatus
        var version: HTTPVersion
        /// Close the client connection after it (else the connection waits for the next request).
        var close: Bool
    }

    /// What follows an ended attempt.
    enum Next: Equatable {
        case none
        /// Pick a server for a retry (count the retry).
        case pickServer(sticky: String?, excluding: [String], isRetry: Bool)
        /// Ask the retry budget, then feed ``ProxyExchangeStateMachine/retryBudgetDecided(granted:now:)``.
        case askRetryBudget
        case respond(ErrorResponse)
        /// The request was refused (malformed, over a limit): count it, answer and close.
        case reject(HTTPResponseStatus)
        /// Two backends died of this request: count and log it (naming `servers`), then answer.
        case poisoned(ErrorResponse, servers: [String])
        case closeClient
    }

    /// What to write to a freshly connected backend.
    struct RequestWrite: Equatable {
        var head: ByteBuffer
        /// The response to this request has no body (HEAD).
        var toHEAD: Bool
        /// Report the head's write with ``ProxyExchangeStateMachine/requestHeadWritten(attemptID:)``
        /// (only needed for a non-idempotent request, where it decides between retry and 502).
        var reportHeadWritten: Bool
        var attemptID: Int
        /// Body parts received before the connection was there (or replayed from a failed attempt).
        var body: [ByteBuffer]
        /// Write the end of the request (a last chunk with `trailers` when `chunked`).
        var end: Bool
        var chunked: Bool
        var trailers: ByteBuffer?
    }

    /// How the response head goes to the client.
    struct ResponsePlan: Equatable {
        var clientVersion: HTTPVersion
        var keepAlive: Bool
        /// The `Transfer-Encoding: chunked` field is kept or added (see ``ResponseFraming``).
        var chunked: Bool
        var framing: ResponseFraming
        /// Stick the client to this server with a cookie.
        var stickyServer: String?
    }

    /// The end of an exchange whose response came from a backend.
    struct ResponseEnd: Equatable {
        var report: Report?
        var status: Int
        /// Give the backend connection back to the pool (else close it).
        var releaseBackend: Bool
        /// Write a last chunk (with the backend's trailers) to end a chunked response.
        var lastChunk: Bool
        /// Close the client connection once written (else wait for the next request).
        var closeClient: Bool
        /// The exchange's forward head, free for reuse by the next exchange's head.
        var spareHead: ByteBuffer?
    }

    enum Action: Equatable {
        case none
        /// Ask the server pool; feed ``serverPicked(_:now:)``. Count a retry when `isRetry`.
        case pickServer(sticky: String?, excluding: [String], isRetry: Bool)
        /// Take an idle connection to `server` or open one; feed ``backendConnected(attemptID:now:)``
        /// or ``backendConnectFailed(attemptID:)``. Make sure the backend timer is armed.
        case connect(server: BalancerStateMachine.Choice, attemptID: Int)
        /// A connection arrived for an attempt given up meanwhile: give it back to the pool.
        case releaseStaleBackend
        case sendRequest(RequestWrite)
        case writeRequestBody(ByteBuffer, chunked: Bool)
        case writeRequestEnd(chunked: Bool, trailers: ByteBuffer?)
        /// Pass a 1xx head on to the (HTTP/1.1) client.
        case forwardInformational(clientVersion: HTTPVersion)
        case forwardResponseHead(ResponsePlan)
        case forwardResponseBody(chunked: Bool)
        case finishResponse(ResponseEnd)
        /// The attempt ended: close its backend if told, report, then do `then`.
        case endAttempt(AttemptEnd, then: Next)
        /// The backend timer fired early: arm it again for this deadline.
        case rearmBackendTimer(at: NIODeadline)
        /// Close the client connection (nothing to write).
        case closeClient
        /// Answer without an exchange (a refused request): count it, answer and close.
        case reject(HTTPResponseStatus)
    }

    let configuration: Configuration
    private(set) var state: State = .idle
    /// The request in flight: non-nil exactly in state `exchange`.
    private(set) var exchange: Exchange?
    /// Graceful shutdown asked the connection to close after the response in flight.
    private(set) var quiescing = false
    /// Attempt ids are unique over the connection, so a late connect result is never mistaken
    /// for the current attempt's.
    private var lastAttemptID = 0

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Leaves the exchange: the connection waits for the next request, or is closing.
    private mutating func finish(close: Bool) {
        state = close ? .closed : .idle
        exchange = nil
    }

    // MARK: Queries

    /// Whether the parser may take more of the client's bytes: between requests and inside a
    /// request body; not while a finished request waits for its response (pipelining).
    var mayParseRequest: Bool {
        switch state {
        case .idle: true
        case .exchange: !exchange!.requestEnded
        case .closed: false
        }
    }

    /// When reads from the client must wait.
    enum ReadPolicy: Equatable {
        /// Read.
        case read
        /// The request ended: read only if no pipelined bytes wait unparsed.
        case holdWhilePipelinedBytesWait
        /// A body is being received: read only while the backend connection takes bytes.
        case holdUnlessBackendWritable
        /// A body is being received but has no backend yet.
        case hold
    }

    var readPolicy: ReadPolicy {
        guard state == .exchange else { return .read }
        if exchange!.requestEnded { return .holdWhilePipelinedBytesWait }
        if case .connected = exchange!.attempt { return .holdUnlessBackendWritable }
        return .hold
    }

    /// The current attempt has a server (the backend timer is meaningful).
    var hasAttemptInFlight: Bool {
        state == .exchange && exchange!.attempt.server != nil
    }

    /// The server of the current attempt (for logs).
    var currentServer: String? {
        guard state == .exchange else { return nil }
        return exchange!.attempt.server?.name
    }

    // MARK: Events from the client

    mutating func requestHeadReceived(_ head: RequestHead, now: NIODeadline) -> Action {
        switch state {
        case .idle:
            if let length = head.contentLength, length > configuration.maxBodyBytes {
                state = .closed
                return .reject(.payloadTooLarge)
            }
            let isHEAD: Bool
            if case .HEAD = head.method { isHEAD = true } else { isHEAD = false }
            exchange = Exchange(
                isHEAD: isHEAD,
                version: head.version,
                clientKeepAlive: head.keepAlive && !quiescing,
                forwardHead: head.forwardHead,
                chunkedBody: head.chunked,
                stickyServer: head.stickyServer,
                retry: RetryStateMachine(method: head.method, maxAttempts: configuration.maxAttempts),
                lastActivity: now
            )
            state = .exchange
            return .pickServer(sticky: head.stickyServer, excluding: [], isRetry: false)
        case .exchange:
            return abandon(then: .closeClient)
        case .closed:
            return .none
        }
    }

    mutating func requestBodyReceived(_ buffer: ByteBuffer, now: NIODeadline) -> Action {
        switch state {
        case .idle:
            state = .closed
            return .closeClient
        case .closed:
            return .none
        case .exchange:
            guard !exchange!.requestEnded else { return abandon(then: .closeClient) }
            let (total, overflow) = exchange!.bodyBytes.addingReportingOverflow(buffer.readableBytes)
            guard !overflow, total <= configuration.maxBodyBytes else {
                return abandon(then: exchange!.responseStarted ? .closeClient : .reject(.payloadTooLarge))
            }
            exchange!.bodyBytes = total
            exchange!.lastActivity = now
            if case .connected = exchange!.attempt {
                keepForReplay(buffer)
                return .writeRequestBody(buffer, chunked: exchange!.chunkedBody)
            }
            exchange!.pendingBody.append(buffer)
            return .none
        }
    }

    mutating func requestEndReceived(trailers: ByteBuffer?) -> Action {
        switch state {
        case .idle:
            state = .closed
            return .closeClient
        case .closed:
            return .none
        case .exchange:
            guard !exchange!.requestEnded else { return abandon(then: .closeClient) }
            exchange!.requestEnded = true
            exchange!.trailers = trailers
            guard case .connected = exchange!.attempt else { return .none }
            exchange!.endWritten = true
            return .writeRequestEnd(chunked: exchange!.chunkedBody, trailers: trailers)
        }
    }

    /// The client's bytes are not a valid request (or its head was refused, e.g. a bad `Host`):
    /// nothing after it on this connection can be trusted.
    mutating func requestParseFailed(_ status: HTTPResponseStatus) -> Action {
        switch state {
        case .idle:
            state = .closed
            return .reject(status)
        case .exchange:
            return abandon(then: exchange!.responseStarted ? .closeClient : .reject(status))
        case .closed:
            return .none
        }
    }

    /// Graceful shutdown: close now if idle, else after the response in flight.
    mutating func quiesce() -> Action {
        quiescing = true
        switch state {
        case .idle:
            state = .closed
            return .closeClient
        case .exchange:
            exchange!.clientKeepAlive = false
            return .none
        case .closed:
            return .none
        }
    }

    /// The client connection is gone.
    mutating func clientClosed() -> Action {
        if state == .exchange { return abandon(then: .none) }
        state = .closed
        return .none
    }

    /// An I/O error on the client connection: it is done.
    mutating func clientError() -> Action {
        switch state {
        case .exchange:
            return abandon(then: .closeClient)
        case .idle:
            state = .closed
            return .closeClient
        case .closed:
            return .none
        }
    }

    // MARK: Events of the attempt

    mutating func serverPicked(_ pick: BalancerStateMachine.PickAction, now: NIODeadline) -> Action {
        guard state == .exchange, exchange!.attempt == .choosingServer else { return unexpected() }
        switch pick {
        case .forward(let choice):
            lastAttemptID += 1
            exchange!.attempt = .connecting(server: choice, id: lastAttemptID)
            exchange!.bodyWrittenThisAttempt = false
            exchange!.endWritten = false
            exchange!.lastActivity = now
            return .connect(server: choice, attemptID: lastAttemptID)
        case .noServerAvailable:
            let isRetry = exchange!.retry.attempt > 1
            let status = isRetry ? exchange!.retry.retryImpossible(lastPhase: exchange!.lastFailurePhase) : .serviceUnavailable
            return respond(status)
        }
    }

    mutating func backendConnected(attemptID: Int) -> Action {
        guard state == .exchange, case .connecting(let server, attemptID) = exchange!.attempt else {
            return .releaseStaleBackend
        }
        let idempotent = exchange!.retry.isIdempotent
        exchange!.attempt = .connected(server: server, id: attemptID, headSent: idempotent)
        var body: [ByteBuffer] = []
        if !exchange!.pendingBody.isEmpty {
            swap(&body, &exchange!.pendingBody)
            for part in body { keepForReplay(part) }
        }
        let ended = exchange!.requestEnded
        exchange!.endWritten = ended
        return .sendRequest(
            RequestWrite(
                head: exchange!.forwardHead,
                toHEAD: exchange!.isHEAD,
                reportHeadWritten: !idempotent,
                attemptID: attemptID,
                body: body,
                end: ended,
                chunked: exchange!.chunkedBody,
                trailers: ended ? exchange!.trailers : nil
            )
        )
    }

    mutating func backendConnectFailed(attemptID: Int) -> Action {
        guard state == .exchange, case .connecting(_, attemptID) = exchange!.attempt else { return .none }
        return attemptFailed(.connectFailed, outcome: .connectFailed)
    }

    /// The head of a non-idempotent request reached the backend's socket.
    mutating func requestHeadWritten(attemptID: Int) -> Action {
        guard state == .exchange, case .connected(let server, attemptID, _) = exchange!.attempt else { return .none }
        exchange!.attempt = .connected(server: server, id: attemptID, headSent: true)
        return .none
    }

    mutating func retryBudgetDecided(granted: Bool, now: NIODeadline) -> Action {
        guard state == .exchange, exchange!.attempt == .awaitingRetryBudget else { return unexpected() }
        guard granted else {
            return respond(exchange!.retry.retryImpossible(lastPhase: exchange!.lastFailurePhase))
        }
        prepareRetry()
        return .pickServer(sticky: exchange!.stickyServer, excluding: exchange!.failedServers, isRetry: true)
    }

    /// The backend timer fired (one per connection, re-armed while an attempt is in flight).
    mutating func backendTimerFired(now: NIODeadline) -> Action {
        guard hasAttemptInFlight else { return .none }
        let expiry = exchange!.lastActivity + configuration.backendTimeout
        if now < expiry { return .rearmBackendTimer(at: expiry) }
        return attemptFailed(exchange!.responseStarted ? .responseStarted : .timedOut, outcome: .timedOut)
    }

    // MARK: Events from the backend connection of the current attempt

    mutating func responseHeadReceived(_ head: ResponseHead, bodyEndsWithConnection: Bool, now: NIODeadline) -> Action {
        guard state == .exchange, case .connected(let server, _, _) = exchange!.attempt else { return unexpected() }
        guard !exchange!.responseStarted else { return attemptFailed(.responseStarted, outcome: .broken) }
        let version = exchange!.version
        if head.status < 200 {
            // 1xx (e.g. 100 Continue) go through; 101 upgrades are not supported.
            guard head.status != 101 else { return attemptFailed(.noResponse, outcome: .broken) }
            exchange!.lastActivity = now
            return version == .http1_0 ? .none : .forwardInformational(clientVersion: version)
        }
        exchange!.lastActivity = now
        exchange!.responseStatus = head.status
        exchange!.backendKeepAlive = head.keepAlive && !bodyEndsWithConnection
        if version == .http1_0 && !head.hasContentLength {
            exchange!.clientKeepAlive = false
        }
        let hasBody = !exchange!.isHEAD && !head.statusForbidsBody
        // An HTTP/1.1 client gets a body without a length chunked (as the backend sent it, or
        // because the backend delimits it by closing); an HTTP/1.0 one gets it delimited by the close.
        let chunked: Bool
        if version == .http1_0 || head.hasContentLength {
            chunked = false
        } else if hasBody {
            chunked = head.chunked || bodyEndsWithConnection
        } else {
            // No body follows; only the field the backend sent is kept (as a HEAD answer describes).
            chunked = head.chunked
        }
        let framing: ResponseFraming = chunked && hasBody ? .chunked : .asReceived
        exchange!.responseFraming = framing
        return .forwardResponseHead(
            ResponsePlan(
                clientVersion: version,
                keepAlive: exchange!.clientKeepAlive,
                chunked: chunked,
                framing: framing,
                stickyServer: configuration.stickyEnabled && !server.stickyHonoured ? server.name : nil
            )
        )
    }

    mutating func responseBodyReceived(now: NIODeadline) -> Action {
        guard state == .exchange, case .connected = exchange!.attempt else { return unexpected() }
        guard exchange!.responseStarted else { return attemptFailed(.noResponse, outcome: .broken) }
        exchange!.lastActivity = now
        return .forwardResponseBody(chunked: exchange!.responseFraming == .chunked)
    }

    mutating func responseEndReceived(now: NIODeadline) -> Action {
        guard state == .exchange, case .connected(let server, _, _) = exchange!.attempt else { return unexpected() }
        guard let status = exchange!.responseStatus else { return attemptFailed(.noResponse, outcome: .broken) }
        // A client still sending a body we no longer need is cut off after the response.
        let close = !exchange!.clientKeepAlive || !exchange!.requestEnded
        let end = ResponseEnd(
            report: Report(server: server.name, outcome: .response(status: status)),
            status: status,
            releaseBackend: exchange!.backendKeepAlive && exchange!.endWritten,
            lastChunk: exchange!.responseFraming == .chunked,
            closeClient: close,
            spareHead: close ? nil : exchange!.forwardHead
        )
        finish(close: close)
        return .finishResponse(end)
    }

    /// The backend connection of the current attempt closed, failed, or sent bytes that are not
    /// a valid response.
    mutating func backendClosed() -> Action {
        guard state == .exchange, case .connected(_, _, let headSent) = exchange!.attempt else { return .none }
        if exchange!.responseStarted { return attemptFailed(.responseStarted, outcome: .broken) }
        if headSent { return attemptFailed(.noResponse, outcome: .broken) }
        // Not a byte of this request is known to have reached the backend (a stale keep-alive connection).
        return attemptFailed(.connectFailed, outcome: .connectFailed)
    }

    // MARK: Transitions shared by several events

    /// Keeps a body part written in this attempt while the body is small enough to replay.
    private mutating func keepForReplay(_ buffer: ByteBuffer) {
        exchange!.bodyWrittenThisAttempt = true
        guard exchange!.retry.bodyReplayable else { return }
        exchange!.sentBytes += buffer.readableBytes
        if exchange!.sentBytes <= configuration.replayBodyBytes {
            exchange!.sentBody.append(buffer)
        } else {
            exchange!.retry.bodyReplayable = false
            exchange!.sentBody.removeAll()
        }
    }

    /// Everything written in the failed attempt goes out again, ahead of what is still held.
    private mutating func prepareRetry() {
        if !exchange!.sentBody.isEmpty {
            exchange!.pendingBody = exchange!.sentBody + exchange!.pendingBody
            exchange!.sentBody.removeAll()
        }
        exchange!.sentBytes = 0
        exchange!.attempt = .choosingServer
    }

    /// The current attempt failed in `phase`.
    private mutating func attemptFailed(_ phase: RetryStateMachine.FailurePhase, outcome: BalancerStateMachine.RequestOutcome) -> Action {
        guard state == .exchange else { return .none }
        var end = AttemptEnd(closeBackend: false, report: nil)
        if case .connected = exchange!.attempt { end.closeBackend = true }
        if let server = exchange!.attempt.server {
            exchange!.failedServers.append(server.name)
            end.report = Report(server: server.name, outcome: outcome)
        }
        exchange!.attempt = .none
        exchange!.lastFailurePhase = phase
        let next: Next
        switch exchange!.retry.attemptFailed(phase) {
        case .retry(let spendsBudget):
            let replayable = exchange!.retry.bodyReplayable || !exchange!.bodyWrittenThisAttempt
            if !replayable {
                next = .respond(errorResponse(exchange!.retry.retryImpossible(lastPhase: phase)))
            } else if spendsBudget {
                exchange!.attempt = .awaitingRetryBudget
                next = .askRetryBudget
            } else {
                prepareRetry()
                next = .pickServer(sticky: exchange!.stickyServer, excluding: exchange!.failedServers, isRetry: true)
            }
        case .respond(let status):
            next = .respond(errorResponse(status))
        case .closeClientConnection:
            next = .closeClient
        case .poisoned:
            next = .poisoned(errorResponse(.badGateway), servers: exchange!.failedServers)
        }
        switch next {
        case .pickServer, .askRetryBudget: break
        case .respond(let response), .poisoned(let response, _): finish(close: response.close)
        case .closeClient, .reject, .none: finish(close: true)
        }
        return .endAttempt(end, then: next)
    }

    private func errorResponse(_ status: HTTPResponseStatus) -> ErrorResponse {
        ErrorResponse(status: status, version: exchange!.version, close: !exchange!.clientKeepAlive || !exchange!.requestEnded)
    }

    /// Answers the current request with the proxy's own error status.
    private mutating func respond(_ status: HTTPResponseStatus) -> Action {
        abandon(then: .respond(errorResponse(status)))
    }

    /// The exchange ends without a response from a backend: its attempt is given up (reported
    /// as abandoned if not reported yet), then `then`.
    private mutating func abandon(then next: Next) -> Action {
        guard state == .exchange else { return .none }
        var end = AttemptEnd(closeBackend: false, report: nil)
        if case .connected = exchange!.attempt { end.closeBackend = true }
        if let server = exchange!.attempt.server { end.report = Report(server: server.name, outcome: .abandoned) }
        switch next {
        case .respond(let response), .poisoned(let response, _): finish(close: response.close)
        case .pickServer, .askRetryBudget: preconditionFailure("an abandoned exchange is not retried")
        case .closeClient, .reject, .none: finish(close: true)
        }
        return .endAttempt(end, then: next)
    }

    /// An event that cannot happen in this state: give the exchange up and close the connection.
    private mutating func unexpected() -> Action {
        switch state {
        case .exchange: return abandon(then: .closeClient)
        case .idle:
            state = .closed
            return .closeClient
        case .closed: return .none
        }
    }
}
