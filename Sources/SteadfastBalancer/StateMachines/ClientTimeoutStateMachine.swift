import NIOCore

/// Decides the two client timeouts of one client connection: an idle keep-alive connection is
/// closed quietly after `idleTimeout`; a client that started a request head but did not finish it
/// within `headerTimeout` (slowloris) gets a raw 408 and is closed. Bytes trickling into a head
/// never move its deadline: it is set by the head's first byte.
///
/// Pure, as the other state machines here: events in, actions out, time passed in as `now`. It
/// holds no channel and no timer; ``ClientTimeouts`` reads the clock, schedules and cancels the
/// one timer, writes the 408 and closes. The timer is lazy, one per connection and never one per
/// request: while one is armed a new deadline does not re-arm it; when it fires it compares the
/// deadline with `now` and asks to be armed again if time remains. While waiting for a request it
/// wakes at least every `headerTimeout`, so a head that starts while a long idle timer is armed
/// is still cut off at its own deadline. A connection's clock is read once per request
/// (``awaitsFirstByte``): the driver reports bytes only while they can start a head.
///
/// Transitions (`idle` = `idleTimeout`, `header` = `headerTimeout`, `armed` = a timer is armed;
/// every `.armTimer` is returned only when none is armed, `.none` otherwise). A timer is armed
/// in `waitingForRequest` and `readingHead` always, in `inExchange` until it fires, and every
/// timer fires at most `header` after it was armed:
///
/// | State | Event | Condition | Next state | Action |
/// | --- | --- | --- | --- | --- |
/// | `unopened` | `connectionOpened(now)` | — | `waitingForRequest`, deadline `now + idle` | `.armTimer(at: min(deadline, now + header))` |
/// | `waitingForRequest` | `bytesReceived(now)` | — | `readingHead`, deadline `now + header` | `.none` (the armed timer fires by then) |
/// | `readingHead`, `inExchange` | `bytesReceived(now)` | — | unchanged, deadline unchanged | `.none` |
/// | `waitingForRequest`, `readingHead`, `inExchange` | `requestHeadReceived` | — | `inExchange` | `.none` |
/// | `waitingForRequest`, `readingHead`, `inExchange` | `exchangeCompleted(now)` | — | `waitingForRequest`, deadline `now + idle` | `.armTimer(at: min(deadline, now + header))` |
/// | `waitingForRequest` | `timerFired(now)` | `now ≥ deadline` | `closed` | `.close` (no 408) |
/// | `readingHead` | `timerFired(now)` | `now ≥ deadline` | `closed` | `.reject408` (then close) |
/// | `waitingForRequest`, `readingHead` | `timerFired(now)` | `now < deadline` (moved since armed) | unchanged | `.armTimer(at: min(deadline, now + header))` |
/// | `inExchange` | `timerFired(now)` | — | unchanged, not armed | `.none` (armed again when the exchange completes) |
/// | any | `connectionClosed` | `armed` | `closed` | `.cancelTimer` |
/// | any | `connectionClosed` | not `armed` | `closed` | `.none` |
/// | `unopened` | `bytesReceived`, `requestHeadReceived`, `exchangeCompleted`, `timerFired` | (cannot happen: opened first) | `unopened` | `.none` |
/// | opened or `closed` | `connectionOpened` | (cannot happen: opened once) | unchanged | `.none` |
/// | `closed` | any | — | `closed` | `.none` |
struct ClientTimeoutStateMachine: Sendable, Equatable {
    /// Where the connection is in its request cycle. No payload: the deadline lives beside it, so
    /// every event mutates the machine in place.
    enum State: Sendable, Equatable {
        /// The connection is not open yet.
        case unopened
        /// Between requests, no byte of the next head seen. Deadline: the idle timeout.
        case waitingForRequest
        /// Bytes of a head arrived; it must complete before the header deadline.
        case readingHead
        /// A request is being proxied; the proxy's own timeouts apply.
        case inExchange
        /// Closed by a timeout, or the connection is gone.
        case closed
    }

    /// What the driver does.
    enum Action: Sendable, Equatable {
        case none
        /// Schedule the connection's one timer to fire at `deadline` (none is armed).
        case armTimer(at: NIODeadline)
        /// Cancel the armed timer: the connection is gone.
        case cancelTimer
        /// Close the connection without a response (idle keep-alive, as HTTP/1.1 allows).
        case close
        /// Write `HTTP/1.1 408 Request Timeout` (`Connection: close`) and close the connection.
        case reject408
    }

    let idleTimeout: TimeAmount
    let headerTimeout: TimeAmount
    private(set) var state: State = .unopened
    /// When the current wait ends: the idle deadline in `waitingForRequest`, the header deadline
    /// in `readingHead` (unused otherwise).
    private(set) var deadline: NIODeadline = .distantFuture
    /// The driver's timer is scheduled and has neither fired nor been cancelled.
    private(set) var timerArmed = false

    init(idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    /// Whether bytes from the client would start a head (and so need `now`): in every other
    /// state ``bytesReceived(now:)`` is `.none` and changes nothing, so the driver may skip it
    /// and the clock read with it.
    var awaitsFirstByte: Bool { state == .waitingForRequest }

    /// The connection is open: the idle timeout starts.
    mutating func connectionOpened(now: NIODeadline) -> Action {
        guard state == .unopened else { return .none }
        return waitForRequest(now: now)
    }

    /// Bytes arrived from the client; the first byte of a head starts the header timeout. No
    /// timer to arm: while waiting one is always armed, never more than `headerTimeout` after it
    /// was armed, so it fires by the head's deadline at the latest and is then armed for it.
    mutating func bytesReceived(now: NIODeadline) -> Action {
        guard state == .waitingForRequest else { return .none }
        state = .readingHead
        deadline = now + headerTimeout
        return .none
    }

    /// A complete request head was decoded (on the admin listener: a whole request arrived).
    mutating func requestHeadReceived() -> Action {
        switch state {
        case .waitingForRequest, .readingHead, .inExchange:
            state = .inExchange
        case .unopened, .closed:
            break
        }
        return .none
    }

    /// The response to the current request is complete and the connection stays open.
    mutating func exchangeCompleted(now: NIODeadline) -> Action {
        switch state {
        case .waitingForRequest, .readingHead, .inExchange:
            return waitForRequest(now: now)
        case .unopened, .closed:
            return .none
        }
    }

    /// The timer armed by an `.armTimer` fired.
    mutating func timerFired(now: NIODeadline) -> Action {
        timerArmed = false
        switch state {
        case .unopened, .closed, .inExchange:
            return .none
        case .waitingForRequest where now >= deadline:
            state = .closed
            return .close
        case .readingHead where now >= deadline:
            state = .closed
            return .reject408
        case .waitingForRequest, .readingHead:
            return armTimer(at: min(deadline, now + headerTimeout))
        }
    }

    /// The connection closed (or its handler left the pipeline): no timer stays armed.
    mutating func connectionClosed() -> Action {
        state = .closed
        guard timerArmed else { return .none }
        timerArmed = false
        return .cancelTimer
    }

    private mutating func waitForRequest(now: NIODeadline) -> Action {
        state = .waitingForRequest
        deadline = now + idleTimeout
        // Wake at least every header timeout, so a head starting later is still caught in time.
        return armTimer(at: min(deadline, now + headerTimeout))
    }

    private mutating func armTimer(at fireAt: NIODeadline) -> Action {
        guard !timerArmed else { return .none }
        timerArmed = true
        return .armTimer(at: fireAt)
    }
}
