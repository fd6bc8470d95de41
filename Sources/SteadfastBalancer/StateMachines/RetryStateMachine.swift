import NIOHTTP1

/// Decides, for one client request, whether a failed attempt may be tried again on another
/// server. It never re-sends a request that may have reached a backend unless the method is
/// idempotent, its body is still held in full, and the retry budget allows it.
public struct RetryStateMachine: Sendable, Equatable {
    /// The states of one request's attempts.
    public enum State: Sendable, Equatable {
        /// Attempt number `attempt` (1-based) is in flight. → `.attempting(attempt + 1)` on a
        /// retry, → `.finished` when a failure is final.
        case attempting(attempt: Int)
        /// No more attempts: the request was answered with an error or the client connection cut.
        case finished
    }

    /// How far an attempt got before it failed. This is what makes a retry safe or not.
    public enum FailurePhase: Sendable, Equatable {
        /// The connection to the backend could not be made (or failed before the request head was
        /// written): no byte of this request reached any backend. Always safe to retry.
        case connectFailed
        /// The request was (at least partly) sent, and the backend closed or reset the
        /// connection before a single byte of response. The backend may have acted on it.
        case noResponse
        /// The backend sent nothing within the backend timeout. It may still be acting on it.
        case timedOut
        /// The response head had already been forwarded to the client when the backend failed.
        case responseStarted
    }

    /// What the owner does next.
    public enum Action: Sendable, Equatable {
        /// Pick another server (excluding the ones tried) and send the request again. When
        /// `spendsBudget`, first take a token from the ``RetryBudget``; without one, fail with 502.
        case retry(spendsBudget: Bool)
        /// Answer the client with this status (the response has not started).
        case respond(HTTPResponseStatus)
        /// The response has started: cut the client connection so the client sees a truncated answer.
        case closeClientConnection
    }

    public private(set) var state: State = .attempting(attempt: 1)
    public let isIdempotent: Bool
    public let maxAttempts: Int
    /// Whether the whole request body is still held, so it could be sent again. The owner clears
    /// it once a body outgrows the replay buffer.
    public var bodyReplayable: Bool = true

    public init(method: HTTPMethod, maxAttempts: Int) {
        self.isIdempotent = Self.isIdempotent(method)
        self.maxAttempts = max(1, maxAttempts)
    }

    /// RFC 9110 §9.2.2 idempotent methods.
    public static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: true
        default: false
        }
    }

    public var attempt: Int {
        if case .attempting(let attempt) = state { return attempt }
        return maxAttempts
    }

    /// The current attempt failed in `phase`.
    public mutating func attemptFailed(_ phase: FailurePhase) -> Action {
        guard case .attempting(let attempt) = state else { return .closeClientConnection }
        let attemptsLeft = attempt < maxAttempts
        switch phase {
        case .responseStarted:
            state = .finished
            return .closeClientConnection
        case .timedOut:
            state = .finished
            return .respond(.gatewayTimeout)
        case .connectFailed:
            guard attemptsLeft else {
                state = .finished
                return .respond(.serviceUnavailable)
            }
            state = .attempting(attempt: attempt + 1)
            return .retry(spendsBudget: false)
        case .noResponse:
            guard attemptsLeft, isIdempotent, bodyReplayable else {
                state = .finished
                return .respond(.badGateway)
            }
            state = .attempting(attempt: attempt + 1)
            return .retry(spendsBudget: true)
        }
    }

    /// A retry was decided but could not happen (no other usable server, or no budget left):
    /// 503 when no backend could be reached at all, 502 when one failed after being sent the request.
    public mutating func retryImpossible(lastPhase: FailurePhase) -> HTTPResponseStatus {
        state = .finished
        return lastPhase == .connectFailed ? .serviceUnavailable : .badGateway
    }
}
