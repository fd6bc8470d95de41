/// Decides when the role monitor probes the hosts: once per `interval` while things are stable,
/// every `searchInterval` while no primary is known (a failover in progress), and soon after
/// anyone asks — many asks served by one probe. Pure: it is told the time and never sleeps or
/// connects; ``PostgresCluster`` feeds it events and carries out the actions it returns.
///
/// One probe of every host runs at a time. A probe ends → the next is due after the interval
/// (or after `minimumGap` if someone asked while it ran, since its answer may predate their
/// failure). An ask while waiting moves the due time forward to `minimumGap` after the last
/// probe ended. A timer armed for the due time starts the probe; only the latest timer counts.
public struct ProbeSchedule<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// The states of the monitor.
    public enum State: Sendable, Equatable {
        /// A probe is running. `askedAgain`: someone asked for a probe since it started.
        /// → `.waiting` when it ends.
        case probing(askedAgain: Bool)
        /// No probe runs; the next is due at `due`, which `timer` (the latest armed) marks.
        /// `lastEnded` is when the last probe ended. → `.probing` when the timer fires at or
        /// after `due`, or when someone asks and `minimumGap` has passed since `lastEnded`.
        case waiting(due: Instant, timer: Int, lastEnded: Instant)
    }

    /// What the owner does next.
    public enum Action: Sendable, Equatable {
        /// Probe every host now, then report ``probeEnded(now:primaryKnown:)``.
        case probe
        /// Report ``timerFired(_:now:)`` with this timer's number at `instant`.
        case armTimer(Int, at: Instant)
        /// Nothing to do.
        case none
    }

    /// The probe interval while a primary is known.
    public let interval: Duration
    /// The probe interval while no primary is known: `min(interval, 100 ms)`, so writes resume
    /// as soon as a standby has been promoted.
    public let searchInterval: Duration
    /// The least time between the end of one probe and the start of the next, whoever asks:
    /// bounds the probe rate when many failures ask at once.
    public let minimumGap: Duration

    public private(set) var state: State = .probing(askedAgain: false)
    private var timers = 0

    /// Starts in `.probing`: the owner runs the first probe at once.
    public init(interval: Duration, minimumGap: Duration = .milliseconds(20)) {
        self.interval = interval
        self.searchInterval = min(interval, .milliseconds(100))
        self.minimumGap = minimumGap
    }

    /// The probe ended at `now`; `primaryKnown` says whether a writable host was found.
    public mutating func probeEnded(now: Instant, primaryKnown: Bool) -> Action {
        let askedAgain: Bool
        switch state {
        case .probing(let asked): askedAgain = asked
        case .waiting: askedAgain = false  // not ours to report; keep a sane schedule anyway
        }
        let wait = askedAgain ? minimumGap : (primaryKnown ? interval : searchInterval)
        return arm(due: now.advanced(by: wait), lastEnded: now)
    }

    /// Someone (work that failed, or waits for a usable host) asks for a probe now.
    public mutating func probeAsked(now: Instant) -> Action {
        switch state {
        case .probing:
            state = .probing(askedAgain: true)
            return .none
        case .waiting(let due, _, let lastEnded):
            let earliest = lastEnded.advanced(by: minimumGap)
            if now >= earliest {
                state = .probing(askedAgain: false)
                return .probe
            }
            guard earliest < due else { return .none }  // already due that soon
            return arm(due: earliest, lastEnded: lastEnded)
        }
    }

    /// Timer `timer` fired at `now`. Timers replaced by a later one are ignored.
    public mutating func timerFired(_ timer: Int, now: Instant) -> Action {
        guard case .waiting(let due, let latest, let lastEnded) = state, timer == latest else { return .none }
        guard now >= due else { return arm(due: due, lastEnded: lastEnded) }  // woke early: wait on
        state = .probing(askedAgain: false)
        return .probe
    }

    private mutating func arm(due: Instant, lastEnded: Instant) -> Action {
        timers += 1
        state = .waiting(due: due, timer: timers, lastEnded: lastEnded)
        return .armTimer(timers, at: due)
    }
}
