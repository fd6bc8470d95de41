/// Which of many one-off timers are due, and when the one task that serves them must next wake.
/// Pure: it is told the time and never sleeps; ``TimerQueue`` feeds it events and carries out the
/// actions it returns.
///
/// The driver keeps at most a few wake-ups armed (sleeping child tasks), not one per timer. A
/// wake-up is armed only for an instant earlier than every wake-up already armed, so timers added
/// in order of their instants — many equal bounds started one after another, the common case —
/// arm nothing: the wake-up for the earliest serves them all, and when it fires the next one is
/// armed for the earliest timer still pending. A removed timer leaves its wake-up armed; that
/// wake-up finds nothing due and arms the next one (one wasted wake-up, never a missed timer).
///
/// Transitions, each tested in `TimerScheduleTests`:
/// - ``add(at:_:)``: the timer is pending. → ``Action/arm(_:)`` if its instant is earlier than
///   the earliest armed wake-up (or none is armed); else `.none`.
/// - ``remove(_:)``: the timer is no longer pending (it will not be returned as due); `false` if
///   it was not pending (already due, or never added).
/// - ``wake(now:)``: every pending timer at or before `now` is due, returned and no longer
///   pending; armed wake-ups at or before `now` are spent. Then, if a timer is still pending and
///   no wake-up is armed at or before its instant, a wake-up is armed for it.
/// A timer's name in a ``TimerSchedule``, for ``TimerSchedule/remove(_:)``.
public struct TimerID: Hashable, Sendable {
    let value: UInt64
}

public struct TimerSchedule<Instant: InstantProtocol, Payload> {
    /// What the driver does next.
    public enum Action: Equatable {
        /// Have a wake-up (``wake(now:)``) at `instant`.
        case arm(Instant)
        /// Nothing to do.
        case none
    }

    private var pending: [TimerID: (instant: Instant, payload: Payload)] = [:]
    private var lastID: UInt64 = 0
    /// The earliest instant a wake-up is armed for (later ones may be armed too; they are only
    /// ever later, since a wake-up is armed only when it is the earliest).
    public private(set) var earliestArmed: Instant?

    public init() {}

    /// How many timers are pending.
    public var count: Int { pending.count }

    /// Adds a timer due at `instant`.
    public mutating func add(at instant: Instant, _ payload: Payload) -> (TimerID, Action) {
        lastID += 1
        let id = TimerID(value: lastID)
        pending[id] = (instant, payload)
        if let armed = earliestArmed, armed <= instant { return (id, .none) }
        earliestArmed = instant
        return (id, .arm(instant))
    }

    /// Removes a pending timer; `false` if it was not pending.
    @discardableResult
    public mutating func remove(_ id: TimerID) -> Bool {
        pending.removeValue(forKey: id) != nil
    }

    /// A wake-up at `now`: the timers due by then, in order of their instants, and whether to
    /// arm another wake-up.
    public mutating func wake(now: Instant) -> (due: [Payload], action: Action) {
        if let armed = earliestArmed, armed <= now { earliestArmed = nil }
        var dueIDs: [TimerID] = []
        var next: Instant?
        for (id, timer) in pending {
            if timer.instant <= now {
                dueIDs.append(id)
            } else if next.map({ timer.instant < $0 }) ?? true {
                next = timer.instant
            }
        }
        let due = dueIDs.compactMap { pending.removeValue(forKey: $0) }.sorted { $0.instant < $1.instant }
        guard let next, earliestArmed.map({ next < $0 }) ?? true else { return (due.map(\.payload), .none) }
        earliestArmed = next
        return (due.map(\.payload), .arm(next))
    }
}
