import NIOCore
import NIOHTTP1

/// The proxy-side state of one client request while it is being forwarded: which servers it
/// tried, which backend connection carries it, what of it was sent and what is still waiting.
/// Owned by one ``ClientConnectionHandler`` and used only on its event loop. A plain GET
/// allocates nothing here beyond the object itself: lists only grow for bodies and retries.
final class ProxyExchange {
    /// Method, version and keep-alive of the client's request.
    let method: HTTPMethod
    /// The method is HEAD (its response has no body). Kept as a flag: comparing `HTTPMethod`
    /// values goes through their string raw values.
    let isHEAD: Bool
    let clientVersion: HTTPVersion
    var clientKeepAlive: Bool
    /// The head's bytes as sent to backends (hop-by-hop removed, X-Forwarded-* added); written
    /// again as is for a retry.
    let forwardHead: ByteBuffer
    /// The request body goes to backends chunked (each slice re-framed as a chunk); otherwise it
    /// has a `Content-Length` (or none) and its bytes go as they are.
    let chunkedBody: Bool
    /// Server named by the client's sticky cookie, if sticky sessions are on.
    let stickyServer: String?
    var retry: RetryStateMachine
    /// Servers that failed this request, so a retry goes elsewhere.
    var failedServers: [String] = []
    /// The server of the current attempt; cleared once its outcome has been reported.
    var server: BalancerStateMachine.Choice?
    /// The backend pool of the current attempt's server.
    var pool: BackendConnectionPool?
    /// The backend connection of the current attempt, once it has one.
    var backend: BackendConnectionHandler?
    /// Bumped per attempt so a late connect result of an abandoned attempt is recognised.
    var attemptID = 0
    /// Whether the head of the current attempt is known to have reached the backend's socket.
    /// Tracked only for non-idempotent requests (where it decides between retry and 502);
    /// idempotent ones count as sent as soon as they are written.
    var headSent = false
    /// A body part was written in the current attempt.
    var bodyWrittenThisAttempt = false
    /// Body parts received from the client but not yet written to a backend.
    var pendingBody: [ByteBuffer] = []
    /// Copies of the body parts written in this attempt, kept while small enough to be replayed.
    var sentBody: [ByteBuffer] = []
    var sentBytes = 0
    /// Request body bytes received so far (for the body limit).
    var bodyBytes = 0
    /// The client sent the request's end (and its trailers).
    var requestEnded = false
    /// Trailer field lines of a chunked request body (each with its CRLF).
    var trailers: ByteBuffer?
    /// The end was written to the current backend.
    var endWritten = false
    /// Status of the final response head, once received.
    var responseStatus: Int?
    var backendKeepAlive = true
    /// How the response body goes to the client.
    var responseFraming: ResponseFraming = .asReceived
    /// The response head (and any body bytes that came with it) prepared for the client but not
    /// written yet: written as one buffer when the read from the backend ends, so a small
    /// response costs the client channel one write instead of one per part.
    var unsentResponse: ByteBuffer?

    /// How response body bytes are framed towards the client.
    enum ResponseFraming {
        /// The bytes go as they are (a `Content-Length` body, no body, or a body the client's
        /// HTTP/1.0 connection delimits by closing).
        case asReceived
        /// Each slice is re-framed as a chunk, and a last chunk ends the body.
        case chunked
    }
    var lastFailurePhase: RetryStateMachine.FailurePhase = .connectFailed
    /// Last sign of life from the backend, or of progress on the request (for the backend timeout).
    var lastActivity: NIODeadline

    var responseStarted: Bool { responseStatus != nil }

    init(
        method: HTTPMethod,
        clientVersion: HTTPVersion,
        clientKeepAlive: Bool,
        forwardHead: ByteBuffer,
        chunkedBody: Bool,
        stickyServer: String?,
        maxAttempts: Int,
        now: NIODeadline
    ) {
        self.method = method
        if case .HEAD = method { self.isHEAD = true } else { self.isHEAD = false }
        self.lastActivity = now
        self.clientVersion = clientVersion
        self.clientKeepAlive = clientKeepAlive
        self.forwardHead = forwardHead
        self.chunkedBody = chunkedBody
        self.stickyServer = stickyServer
        self.retry = RetryStateMachine(method: method, maxAttempts: maxAttempts)
    }
}
