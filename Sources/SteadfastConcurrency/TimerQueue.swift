import Synchronization

/// One-off timers on an injected clock, all served by one task (``run()``): for code that starts
/// a short bound thousands of times a second and where a task per bound would cost more than
/// the work it bounds.
///
/// Why not ``withDeadline(_:clock:_:)``: it is the one deadline helper for an operation that
/// ends when cancelled, and it needs two child tasks and a clock sleep per call. The PostgreSQL
/// engine bounds every statement; with a deadline task each, a page's statements spent about a
/// tenth of its CPU creating, scheduling and cancelling them (docs/billing.md). Here a timer is
/// an entry in a table under a lock, and what happens at its instant is the owner's `action` —
/// which must end the bounded work itself (the engine closes the statement's connection), since
/// nothing is cancelled for it.
///
/// ``TimerSchedule`` decides; this class only sleeps and calls. While ``run()`` runs, an action
/// runs once its instant has passed on the clock, on ``run()``'s task, outside any lock, and
/// must not block. Timers added before ``run()`` starts fire once it does; after it has ended
/// (its task cancelled) they never fire: the owner must then end its work another way (the
/// engine's retirement closes its connections).
public final class TimerQueue: Sendable {
    /// A timer, for ``cancel(_:)``.
    public struct Timer: Sendable {
        fileprivate let id: TimerID
    }

    private let core: any TimerQueueCore

    public init(clock: any Clock<Duration>) {
        core = Self.open(clock)
    }

    private static func open<C: Clock<Duration>>(_ clock: C) -> any TimerQueueCore {
        Core(clock: clock)
    }

    /// Calls `action` once `delay` has passed on the clock, unless ``cancel(_:)`` comes first.
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Timer {
        core.schedule(after: delay, action)
    }

    /// Stops `timer` from firing if it has not fired yet; `false` if it had (or its action is
    /// about to run: an owner that must know uses state of its own, as the engine does).
    @discardableResult
    public func cancel(_ timer: Timer) -> Bool {
        core.cancel(timer)
    }

    /// Serves the timers until the task is cancelled.
    public func run() async {
        await core.run()
    }

    /// How many timers are pending (for tests).
    public var pendingCount: Int { core.pendingCount }
}

private protocol TimerQueueCore: Sendable {
    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> TimerQueue.Timer
    func cancel(_ timer: TimerQueue.Timer) -> Bool
    func run() async
    var pendingCount: Int { get }
}

/// The queue on one concrete clock, whose instants can be kept and compared.
private final class Core<C: Clock<Duration>>: TimerQueueCore {
    typealias Schedule = TimerSchedule<C.Instant, @Sendable () -> Void>

    private let clock: C
    private let schedule: Mutex<Schedule> = Mutex(Schedule())
    /// Wake-ups to arm, asked for by ``schedule(after:_:)``, and wake-ups that fired: read by
    /// ``run()``'s one iterator, never cancelled while in use (a cancelled `next()` would finish
    /// the stream; see `PostgresCluster.monitor()`).
    private let events: AsyncStream<Event>
    private let eventInput: AsyncStream<Event>.Continuation

    enum Event: Sendable {
        case arm(C.Instant)
        case wake
    }

    init(clock: C) {
        self.clock = clock
        (events, eventInput) = AsyncStream.makeStream()
    }

    var pendingCount: Int { schedule.withLock { $0.count } }

    func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> TimerQueue.Timer {
        let instant = clock.now.advanced(by: delay)
        let (id, next) = schedule.withLock { $0.add(at: instant, action) }
        if case .arm(let instant) = next { eventInput.yield(.arm(instant)) }
        return TimerQueue.Timer(id: id)
    }

    func cancel(_ timer: TimerQueue.Timer) -> Bool {
        schedule.withLock { $0.remove(timer.id) }
    }

    func run() async {
        let clock = self.clock
        let input = eventInput
        await withDiscardingTaskGroup { group in
            // The task's cancellation ends `next()` below (and the stream), and so the loop; it
            // also ends the sleeping wake-ups, children of this group.
            // Timers added before this started asked for their wake-up already (the stream
            // buffers it); one look now serves any whose time has passed meanwhile.
            var event: Event? = .wake
            var iterator = events.makeAsyncIterator()
            while let current = event {
                let instant: C.Instant?
                switch current {
                case .arm(let at):
                    instant = at
                case .wake:
                    let (due, action) = schedule.withLock { $0.wake(now: clock.now) }
                    for fire in due { fire() }
                    if case .arm(let at) = action { instant = at } else { instant = nil }
                }
                if let instant {
                    group.addTask {
                        guard (try? await clock.sleep(until: instant, tolerance: nil)) != nil else { return }
                        input.yield(.wake)
                    }
                }
                event = await iterator.next()
            }
            group.cancelAll()
        }
    }
}
