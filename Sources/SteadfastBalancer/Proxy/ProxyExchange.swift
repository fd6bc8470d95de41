import NIOCore
import NIOHTTP1

/// The proxy-side state of one client request while it is being forwarded: which servers it
/// tried, which backend connection carries it, what of it was sent and what is still waiting.
/// Owned by one ``ClientConnectionHandler`` and used only on its event loop.
final class ProxyExchange {
    /// Method, version and keep-alive of the client's request.
    let method: HTTPMethod
    let clientVersion: HTTPVersion
    var clientKeepAlive: Bool
    /// The head as sent to backends (hop-by-hop removed, X-Forwarded-* added).
    let forwardHead: HTTPRequestHead
    /// Server named by the client's sticky cookie, if sticky sessions are on.
    let stickyServer: String?
    var retry: RetryStateMachine
    /// Servers tried so far, in order.
    var tried: [String] = []
    /// The server of the current attempt; cleared once its outcome has been reported.
    var server: BalancerStateMachine.Choice?
    /// The backend connection of the current attempt, once it has one.
    var backend: BackendConnectionHandler?
    /// Bumped per attempt so a late connect result of an abandoned attempt is recognised.
    var attemptID = 0
    /// The request head of the current attempt was written to the backend's socket.
    var headSent = false
    /// A body part or the end was written in the current attempt.
    var bodyWrittenThisAttempt = false
    /// Request parts received from the client but not yet written to a backend.
    var pending: [HTTPClientRequestPart] = []
    /// Copies of the parts written in this attempt, kept while small enough to be replayed.
    var sent: [HTTPClientRequestPart] = []
    var sentBytes = 0
    /// Request body bytes received so far (for the body limit).
    var bodyBytes = 0
    /// The client sent the request's end.
    var requestEnded = false
    /// Status of the final response head, once received.
    var responseStatus: Int?
    var backendKeepAlive = true
    var lastFailurePhase: RetryStateMachine.FailurePhase = .connectFailed
    var timeoutTask: Scheduled<Void>?
    var lastBackendActivity: NIODeadline = .now()

    var responseStarted: Bool { responseStatus != nil }

    init(
        method: HTTPMethod,
        clientVersion: HTTPVersion,
        clientKeepAlive: Bool,
        forwardHead: HTTPRequestHead,
        stickyServer: String?,
        maxAttempts: Int
    ) {
        self.method = method
        self.clientVersion = clientVersion
        self.clientKeepAlive = clientKeepAlive
        self.forwardHead = forwardHead
        self.stickyServer = stickyServer
        self.retry = RetryStateMachine(method: method, maxAttempts: maxAttempts)
    }
}
