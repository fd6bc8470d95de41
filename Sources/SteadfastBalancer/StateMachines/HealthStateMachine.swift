import NIOCore

/// One server's health, driven by active check results and passive ejections; pure (no I/O, no
/// clock of its own). It decides whether the server may take requests and how soon it should be
/// checked again, in the manner of HAProxy's `fall`/`rise`/`fastinter`.
public struct HealthStateMachine: Sendable, Equatable {
    /// The health states. Every state lists what it can move to.
    public enum State: Sendable, Equatable {
        /// Healthy and serving. → `.failing` on a failed check (`.down` if fall is 1), → `.draining` on
        /// a 503 answer, → `.down` on passive ejection.
        case up
        /// Still serving, but `failures` (< fall) consecutive checks have failed. → `.up` on a passed
        /// check, → `.down` at `fall` failures, → `.draining` on 503, → `.down` on passive ejection.
        case failing(failures: Int)
        /// Not serving. → `.recovering` on a passed check (`.up` if rise is 1); stays down on failures
        /// and on 503 (a server that is still starting and not ready).
        case down
        /// Not serving, `passes` (< rise) consecutive checks passed. → `.up` at `rise` passes,
        /// → `.down` on a failed check or a 503.
        case recovering(passes: Int)
        /// The server answered its check with 503 ("drain me"): no new requests except sticky ones;
        /// in-flight ones finish. → `.up` on a passed check, → `.down` on a failed check or passive ejection.
        case draining
    }

    /// What one active health check found.
    public enum CheckResult: Sendable, Equatable {
        /// The expected status came back in time.
        case passed
        /// 503: the server is alive but asks not to get new requests.
        case drainRequested
        /// Anything else: refused, reset, timed out, or an unexpected status.
        case failed
    }

    /// A change in whether the server may take requests, reported to the owner for logs and slow start.
    public enum Transition: Sendable, Equatable {
        /// From not serving (down/recovering) to serving: the owner starts slow start.
        case becameUp
        /// From serving or draining to not serving at all.
        case becameDown
        /// From serving to draining (server asked for it).
        case startedDraining
        /// From draining back to serving.
        case stoppedDraining
    }

    /// Result of one event: the transition (if any) and when to check next.
    public struct Action: Sendable, Equatable {
        public var transition: Transition?
        public var nextCheckIn: TimeAmount
    }

    public private(set) var state: State
    public var fall: Int
    public var rise: Int
    public var interval: TimeAmount
    public var fastInterval: TimeAmount

    public init(state: State = .up, fall: Int, rise: Int, interval: TimeAmount, fastInterval: TimeAmount) {
        self.state = state
        self.fall = max(1, fall)
        self.rise = max(1, rise)
        self.interval = interval
        self.fastInterval = fastInterval
    }

    /// May take new, non-sticky requests.
    public var isServing: Bool {
        switch state {
        case .up, .failing: true
        case .down, .recovering, .draining: false
        }
    }

    /// May take requests from clients stuck to it (sticky sessions).
    public var acceptsStickyRequests: Bool {
        switch state {
        case .up, .failing, .draining: true
        case .down, .recovering: false
        }
    }

    /// An active check completed.
    public mutating func checkCompleted(_ result: CheckResult) -> Action {
        let transition: Transition?
        switch (state, result) {
        case (.up, .passed), (.failing, .passed):
            state = .up
            transition = nil
        case (.up, .failed):
            state = fall == 1 ? .down : .failing(failures: 1)
            transition = fall == 1 ? .becameDown : nil
        case (.failing(let failures), .failed):
            if failures + 1 >= fall {
                state = .down
                transition = .becameDown
            } else {
                state = .failing(failures: failures + 1)
                transition = nil
            }
        case (.up, .drainRequested), (.failing, .drainRequested):
            state = .draining
            transition = .startedDraining
        case (.down, .passed):
            state = rise == 1 ? .up : .recovering(passes: 1)
            transition = rise == 1 ? .becameUp : nil
        case (.recovering(let passes), .passed):
            if passes + 1 >= rise {
                state = .up
                transition = .becameUp
            } else {
                state = .recovering(passes: passes + 1)
                transition = nil
            }
        case (.down, .failed), (.down, .drainRequested), (.recovering, .failed), (.recovering, .drainRequested):
            state = .down
            transition = nil
        case (.draining, .passed):
            state = .up
            transition = .stoppedDraining
        case (.draining, .drainRequested):
            transition = nil
        case (.draining, .failed):
            state = .down
            transition = .becameDown
        }
        return Action(transition: transition, nextCheckIn: nextInterval)
    }

    /// Live traffic failed often enough in a row to eject the server until checks pass `rise` times.
    public mutating func passiveEjection() -> Action {
        switch state {
        case .up, .failing, .draining:
            state = .down
            return Action(transition: .becameDown, nextCheckIn: nextInterval)
        case .down, .recovering:
            state = .down
            return Action(transition: nil, nextCheckIn: nextInterval)
        }
    }

    /// Checks come at the fast interval while the state is in flux, at the normal one otherwise.
    public var nextInterval: TimeAmount {
        switch state {
        case .failing, .recovering: fastInterval
        case .up, .down, .draining: interval
        }
    }
}
