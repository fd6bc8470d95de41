import NIOHTTP1

/// Decides, for one client request, whether a failed attempt may be tried again on another
/// server. It never re-sends a request that may have reached a backend unless the method is
/// idempotent, its body is still held in full, and the retry budget allows it. It also contains
/// a "query of death": a request that was sent to a backend which then died without answering
/// is sent to at most one more; if that one dies the same way, the request is poisoned (502, no
/// third server), so one request can never take the whole cluster down.
///
/// Transitions (`n` = attempt number, `lost` = ``backendsLost``, `left` = `n < maxAttempts`):
///
/// | State | Event | Condition | Next state | Action |
/// | --- | --- | --- | --- | --- |
/// | `attempting(n)` | `.connectFailed` | `left` | `attempting(n+1)` | `.retry(spendsBudget: false)` |
/// | `attempting(n)` | `.connectFailed` | not `left` | `finished` | `.respond(503)` |
/// | `attempting(n)` | `.noResponse` | `lost` becomes 2 | `finished` | `.poisoned` (502) |
/// | `attempting(n)` | `.noResponse` | `lost` becomes 1, `left`, idempotent, body replayable | `attempting(n+1)` | `.retry(spendsBudget: true)` |
/// | `attempting(n)` | `.noResponse` | `lost` becomes 1, otherwise | `finished` | `.respond(502)` |
/// | `attempting(n)` | `.timedOut` | — | `finished` | `.respond(504)` |
/// | `attempting(n)` | `.responseStarted` | — | `finished` | `.closeClientConnection` |
/// | `finished` | any | — | `finished` | `.closeClientConnection` |
/// | any | ``retryImpossible(lastPhase:)`` | — | `finished` | 503 after `.connectFailed`, else 502 |
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
        /// connection (or answered with bytes that are not a response) before a single byte of
        /// response. The backend may have acted on it — or died of it: each one counts in
        /// ``backendsLost``.
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
        /// The request was sent to a second backend that also died before answering: answer
        /// **502**, try no third server, and count the request as poisoned (a query of death).
        case poisoned
    }

    /// Most backends one request may lose (sent to, then gone without a response byte) before it
    /// counts as poisoned and is not sent anywhere else.
    public static let maxBackendsLost = 2

    public private(set) var state: State = .attempting(attempt: 1)
    /// Attempts that failed with `.noResponse`: backends this request reached and then lost.
    public private(set) var backendsLost = 0
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
            backendsLost += 1
            if backendsLost >= Self.maxBackendsLost {
                state = .finished
                return .poisoned
            }
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
