import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SteadfastConcurrency
import SteadfastDomain

/// The database of a cluster node: one or more PostgreSQL servers (a primary and streaming
/// standbys), followed through failovers and switchovers without restarting the node.
///
/// - One ``PostgresEngine`` (a `PostgresClient` pool) per host. A role monitor probes every host
///   each `monitorInterval` — and at once when work fails — with `pg_is_in_recovery()`, replay
///   lag and timeline.
/// - Writes and transactions go to the current primary; ``read(_:)`` may go to a standby within
///   `maxStandbyLag` as `target_session_attrs` allows (and does, under `read-write`, only while no
///   primary is reachable).
/// - A host that refuses a write (25006: a standby or demoted primary), shuts down (57P01), or
///   loses its connection has its pool dropped and replaced, so no connection to a demoted
///   primary stays in use.
/// - Work that certainly did not commit is retried on the new primary (see ``FailureHandling``);
///   nothing waits longer than `requestTimeout`, after which the caller gets a `.timeout` error
///   (a 503 at the HTTP edge).
public final class PostgresCluster: SQLDatabase, Service {
    public var dialect: SQLDialect { .postgres }

    public let target: PostgresTarget
    let requestTimeout: Duration
    let maxStandbyLag: Double
    let monitorInterval: Duration
    let maximumConnections: Int
    /// What the role monitor's schedule is told the time by and its timers sleep on (its steady
    /// face: a wall-clock step neither delays nor hurries a probe).
    let clock: any WallClock
    /// What the request bound, the wait for a usable host, each statement's deadline and a role
    /// probe's limit are measured on: real elapsed time in production (`ContinuousClock`: these
    /// bound waits on the network), a test clock in tests, so a test moves a bound's end instead
    /// of waiting for it.
    let deadlineClock: any Clock<Duration>
    let logger: Logger

    /// One host's live state.
    struct Slot {
        var role: HostRole = .unknown
        var engine: PostgresEngine
        var generation = 0
    }

    private let slots: Mutex<[Slot]>
    private let engines: AsyncStream<PostgresEngine>.Continuation
    private let engineStream: AsyncStream<PostgresEngine>
    /// What the role monitor reacts to: asks for a probe, probes ending, timers firing. Consumed
    /// by one iterator for the monitor's whole life (see ``monitor()``).
    private let monitorEvents: AsyncStream<MonitorEvent>.Continuation
    private let monitorEventStream: AsyncStream<MonitorEvent>
    /// Whether an ask for a probe is queued in `monitorEvents` and not yet seen by the monitor:
    /// any number of asks meanwhile queue one event, so the stream's buffer stays bounded.
    private let probeAskQueued = Atomic<Bool>(false)
    /// Fires when the hosts' roles or engines were last written, and is then replaced: work
    /// waiting for a usable host (``waitForHost(_:until:)``) waits on it instead of polling.
    private let slotsWritten = Mutex(OneShotEvent())

    enum MonitorEvent: Sendable {
        case probeAsked
        case probeEnded(primaryKnown: Bool)
        case timerFired(Int)
    }

    public init(
        target: PostgresTarget, maximumConnections: Int = 20, requestTimeout: Duration = .seconds(2),
        maxStandbyLag: Duration = .seconds(5), monitorInterval: Duration = .seconds(1), clock: any WallClock = SystemWallClock(),
        deadlineClock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.target = target
        self.clock = clock
        self.deadlineClock = deadlineClock
        self.requestTimeout = requestTimeout
        self.maxStandbyLag = maxStandbyLag.totalSeconds
        self.monitorInterval = monitorInterval
        self.maximumConnections = maximumConnections
        self.logger = logger
        (engineStream, engines) = AsyncStream.makeStream()
        (monitorEventStream, monitorEvents) = AsyncStream.makeStream()
        let initial = target.endpoints.map { endpoint in
            Slot(engine: PostgresEngine(
                endpoint: endpoint, maximumConnections: maximumConnections, statementTimeout: requestTimeout, clock: deadlineClock, logger: logger
            ))
        }
        slots = Mutex(initial)
        for slot in initial { engines.yield(slot.engine) }
    }

    // MARK: Service

    /// Runs the pools and the role monitor until graceful shutdown or cancellation.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.monitor()
                self.engines.finish()
            }
            for await engine in engineStream {
                group.addTask { try? await engine.run() }
            }
        }
    }

    /// The role monitor: probes every host when ``ProbeSchedule`` says so, until graceful
    /// shutdown, cancellation or ``close()``; then retires every engine.
    ///
    /// Why an event loop: the monitor waits for two things at once, a timer and asks for a probe.
    /// Racing a sleep against an `AsyncStream` iterator's `next()` and cancelling the loser does
    /// not work: a cancelled `next()` finishes the stream for good, after which every wait ended
    /// at once and the monitor probed every 20 ms (~29 connections a second per host). Instead,
    /// everything the monitor waits for arrives as an event on one stream read by one iterator
    /// that is never cancelled while in use; timers and probes are child tasks of this task's
    /// group that report back as events (a superseded timer still fires, and is ignored).
    ///
    /// Timed on the injected clock's steady face, so tests drive the schedule by moving it.
    private func monitor() async {
        await clock.steady.runMonitor(of: self)
        for slot in slots.withLock({ $0 }) { slot.engine.retire() }
    }

    fileprivate func monitor<C: Clock>(on clock: C) async where C.Duration == Duration {
        var schedule = ProbeSchedule<C.Instant>(interval: monitorInterval)
        let events = monitorEvents
        await withDiscardingTaskGroup { group in
            // Graceful shutdown, or cancellation, ends the event stream and so the loop below.
            group.addTask {
                try? await gracefulShutdown()
                events.finish()
            }
            var iterator = monitorEventStream.makeAsyncIterator()
            var action = ProbeSchedule<C.Instant>.Action.probe
            while true {
                switch action {
                case .probe:
                    group.addTask {
                        await self.probeAll()
                        events.yield(.probeEnded(primaryKnown: self.canWrite))
                    }
                case .armTimer(let timer, let instant):
                    group.addTask {
                        guard (try? await clock.sleep(until: instant, tolerance: nil)) != nil else { return }
                        events.yield(.timerFired(timer))
                    }
                case .none:
                    break
                }
                guard let event = await iterator.next() else { break }
                let now = clock.now
                switch event {
                case .probeAsked:
                    probeAskQueued.store(false, ordering: .sequentiallyConsistent)
                    action = schedule.probeAsked(now: now)
                case .probeEnded(let primaryKnown):
                    action = schedule.probeEnded(now: now, primaryKnown: primaryKnown)
                case .timerFired(let timer):
                    action = schedule.timerFired(timer, now: now)
                }
            }
            group.cancelAll()
        }
    }

    /// Probes every host concurrently and records the roles.
    func probeAll() async {
        let endpoints = target.endpoints
        let timeout = min(monitorInterval, .seconds(1))
        let logger = self.logger
        let clock = deadlineClock
        let roles = await withTaskGroup(of: (Int, HostRole).self) { group in
            for (index, endpoint) in endpoints.enumerated() {
                group.addTask { (index, await HostProbe.probe(endpoint, timeout: timeout, clock: clock, logger: logger)) }
            }
            var roles: [Int: HostRole] = [:]
            for await (index, role) in group { roles[index] = role }
            return roles
        }
        for (index, role) in roles.sorted(by: { $0.key < $1.key }) {
            record(role, for: index)
        }
    }

    func record(_ role: HostRole, for index: Int) {
        let (old, retired) = slots.withLock { slots -> (HostRole, PostgresEngine?) in
            let old = slots[index].role
            slots[index].role = role
            // A primary that is no longer one must not keep its pool.
            if case .primary = old, !(role.isPrimary) {
                return (old, replaceEngine(&slots, index))
            }
            return (old, nil)
        }
        retired?.retire()
        announceSlotsWritten()
        if old.name != role.name {
            let endpoint = target.endpoints[index]
            logger.notice("database host role changed", metadata: [
                "steadfast.db.host": "\(endpoint.host):\(endpoint.port)", "steadfast.db.from": "\(old.name)", "steadfast.db.to": "\(role.name)",
            ])
        }
    }

    /// Swaps in a fresh engine for a host; returns the old one for retirement.
    private func replaceEngine(_ slots: inout [Slot], _ index: Int) -> PostgresEngine {
        let old = slots[index].engine
        let fresh = PostgresEngine(
            endpoint: target.endpoints[index], maximumConnections: maximumConnections, statementTimeout: requestTimeout, clock: deadlineClock, logger: logger
        )
        slots[index].engine = fresh
        slots[index].generation += 1
        // Once the cluster has stopped nothing would run it, and its statements' time limits
        // (served by its `run()`) would never pass: retired, it fails them at once.
        if case .terminated = engines.yield(fresh) { fresh.retire() }
        return old
    }

    // MARK: SQLDatabase

    @discardableResult
    public func query(_ sql: SQL) async throws -> [SQLRow] {
        try await perform(.write, readOnlyWork: false, idempotent: false, timeout: nil) { engine, limit in
            try await engine.query(sql, within: limit)
        }
    }

    public func read(_ sql: SQL) async throws -> [SQLRow] {
        try await perform(.read, readOnlyWork: true, idempotent: false, timeout: nil) { engine, limit in
            try await engine.query(sql, within: limit)
        }
    }

    @discardableResult
    public func transaction<T: Sendable>(_ options: TransactionOptions, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await perform(.write, readOnlyWork: false, idempotent: options.idempotent, timeout: options.timeout) { engine, limit in
            try await engine.transaction(TransactionOptions(idempotent: options.idempotent, timeout: limit), body)
        }
    }

    public var canWrite: Bool {
        slots.withLock { HostSelection.primary($0.map(\.role)) != nil }
    }

    public func hostStatuses() async -> [HostStatus] {
        let roles = slots.withLock { $0.map(\.role) }
        let readable = Set(HostSelection.usableStandbys(roles, maxLag: maxStandbyLag) + [HostSelection.primary(roles)].compactMap { $0 })
        return target.endpoints.enumerated().map { index, endpoint in
            HostStatus(host: "\(endpoint.host):\(endpoint.port)", role: roles[index], readable: readable.contains(index))
        }
    }

    /// Succeeds when some host can answer reads (a primary, or a standby within the lag bound).
    public func ping() async throws {
        _ = try await read("SELECT 1 AS ok")
    }

    public func close() async throws {
        monitorEvents.finish()
        for slot in slots.withLock({ $0 }) { slot.engine.retire() }
    }

    // MARK: Routing and retry

    /// Runs `operation` on the host chosen for `intent`, retrying on another host when the
    /// failure allows it, all within the request bound.
    func perform<T: Sendable>(
        _ intent: HostSelection.Intent, readOnlyWork: Bool, idempotent: Bool, timeout: Duration?,
        _ operation: @escaping @Sendable (PostgresEngine, Duration) async throws -> T
    ) async throws -> T {
        let bound = timeout ?? requestTimeout
        let deadline = Deadline(after: bound, on: deadlineClock)
        let inFlight = AttemptRecord()
        do {
            return try await attempts(intent, readOnlyWork: readOnlyWork, idempotent: idempotent, bound: bound, deadline: deadline, inFlight: inFlight, operation)
        } catch let error as DatabaseError where error.kind == .timeout {
            // Say where the time went: waiting for a usable host, or on which host.
            let (attempt, host) = inFlight.current
            let roles = slots.withLock { $0.map(\.role.name) }
            logger.warning("database work ran out of time", metadata: [
                "steadfast.db.intent": "\(intent)", "steadfast.db.attempt": "\(attempt)",
                "steadfast.db.host": "\(host.map { "\(target.endpoints[$0].host):\(target.endpoints[$0].port)" } ?? "none: waiting for a usable host")",
                "steadfast.db.roles": "\(roles.joined(separator: ","))",
            ])
            throw error
        }
    }

    private func attempts<T: Sendable>(
        _ intent: HostSelection.Intent, readOnlyWork: Bool, idempotent: Bool, bound: Duration, deadline: Deadline,
        inFlight: AttemptRecord, _ operation: @escaping @Sendable (PostgresEngine, Duration) async throws -> T
    ) async throws -> T {
        // No deadline task around the attempts: the wait for a host stops at `deadline`, and
        // each attempt gets what is left of the bound as its engine's statement deadline.
        var attempt = 0
        while true {
            attempt += 1
            inFlight.start(attempt)
            let (index, engine, generation) = try await waitForHost(intent, until: deadline)
            inFlight.use(host: index)
            let left = deadline.remaining
            guard left > .zero else { throw DatabaseError(.timeout, message: "no answer from the database within \(DurationText.format(bound))", mayHaveCommitted: false) }
            do {
                return try await operation(engine, left)
            } catch let error as DatabaseError {
                let decision = FailureHandling.decide(error, readOnlyWork: readOnlyWork, idempotent: idempotent)
                apply(decision.verdict, error: error, index: index, generation: generation)
                guard decision.retry, !deadline.hasPassed, attempt < 20 else {
                    if decision.verdict != .healthy {
                        logger.warning("database work failed and cannot safely be retried", metadata: [
                            "error": "\(error)", "steadfast.db.may_have_committed": "\(error.mayHaveCommitted)",
                        ])
                    }
                    throw error
                }
                logger.info("retrying database work on the current primary", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
            }
        }
    }

    /// Waits (asking for a probe) until a host can take `intent`, or the deadline passes; between
    /// looks it waits for the slots to be written (a probe's result, a host given up on), not a
    /// poll interval.
    private func waitForHost(_ intent: HostSelection.Intent, until deadline: Deadline) async throws -> (Int, PostgresEngine, Int) {
        var asked = false
        while true {
            // Taken before the slots are read, so a write between the two is not missed.
            let written = slotsWritten.withLock { $0 }
            let choice = slots.withLock { slots -> (Int, PostgresEngine, Int)? in
                guard let index = HostSelection.choose(intent, roles: slots.map(\.role), attributes: target.sessionAttributes, maxLag: maxStandbyLag) else { return nil }
                return (index, slots[index].engine, slots[index].generation)
            }
            if let choice { return choice }
            if !asked {
                requestProbe()
                asked = true
            }
            guard !deadline.hasPassed else {
                throw DatabaseError(.connectionFailure, message: intent == .write ? "no primary database server is reachable" : "no database server is reachable")
            }
            try Task.checkCancellation()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await written.wait() }
                group.addTask { try? await deadline.sleepUntilPassed() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Wakes every ``waitForHost(_:until:)`` to look at the slots again.
    private func announceSlotsWritten() {
        let written = slotsWritten.withLock { event -> OneShotEvent in
            defer { event = OneShotEvent() }
            return event
        }
        written.fire()
    }

    /// Asks the monitor for a probe of every host now (soon, if one just ended; asks while a
    /// probe runs are served by one more probe after it).
    func requestProbe() {
        if !probeAskQueued.exchange(true, ordering: .sequentiallyConsistent) {
            monitorEvents.yield(.probeAsked)
        }
    }

    private func apply(_ verdict: FailureHandling.HostVerdict, error: DatabaseError, index: Int, generation: Int) {
        guard verdict != .healthy else { return }
        let retired = slots.withLock { slots -> PostgresEngine? in
            guard slots[index].generation == generation else { return nil }
            slots[index].role = verdict == .demoted ? .unknown : .unreachable(error.message)
            return replaceEngine(&slots, index)
        }
        retired?.retire()
        if retired != nil { announceSlotsWritten() }
        requestProbe()
    }
}

extension Clock where Duration == Swift.Duration {
    /// Runs the cluster's role monitor on this clock (opens the injected `any Clock`).
    fileprivate func runMonitor(of cluster: PostgresCluster) async {
        await cluster.monitor(on: self)
    }
}

extension HostRole {
    var isPrimary: Bool {
        if case .primary = self { return true }
        return false
    }
}

/// Which attempt of a piece of database work is running, and on which host: for the log line
/// when the work runs out of time.
final class AttemptRecord: Sendable {
    private let state = Mutex<(attempt: Int, host: Int?)>((0, nil))

    var current: (attempt: Int, host: Int?) { state.withLock { $0 } }
    func start(_ attempt: Int) { state.withLock { $0 = (attempt, nil) } }
    func use(host: Int) { state.withLock { $0.host = host } }
}
