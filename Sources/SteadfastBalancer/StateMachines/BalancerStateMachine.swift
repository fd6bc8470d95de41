import NIOCore

/// The server pool's brain: which servers are usable, which one gets the next request, and how
/// live traffic and health checks change that. Pure: events in, actions out, time passed in as
/// `now`, randomness from a seeded generator. The runtime keeps one instance behind a lock.
public struct BalancerStateMachine: Sendable {
    /// What the state machine needs to know about a server from configuration.
    public struct ServerDefinition: Sendable, Equatable {
        public var name: String
        public var address: SocketAddress
        public var weight: Int
        public var backup: Bool

        public init(name: String, address: SocketAddress, weight: Int, backup: Bool) {
            self.name = name
            self.address = address
            self.weight = weight
            self.backup = backup
        }
    }

    /// Pool-wide behaviour taken from configuration.
    public struct Settings: Sendable, Equatable {
        public var algorithm: BalancingAlgorithm
        public var slowStart: TimeAmount
        public var passiveFailureThreshold: Int
        public var passiveCounts5xx: Bool
        public var health: BalancerConfiguration.HealthCheck
        public var retryBudgetPercent: Int
        public var retryMinPerSecond: Int

        public init(
            algorithm: BalancingAlgorithm = .roundRobin,
            slowStart: TimeAmount = .zero,
            passiveFailureThreshold: Int = 3,
            passiveCounts5xx: Bool = true,
            health: BalancerConfiguration.HealthCheck = .init(),
            retryBudgetPercent: Int = 20,
            retryMinPerSecond: Int = 10
        ) {
            self.algorithm = algorithm
            self.slowStart = slowStart
            self.passiveFailureThreshold = passiveFailureThreshold
            self.passiveCounts5xx = passiveCounts5xx
            self.health = health
            self.retryBudgetPercent = retryBudgetPercent
            self.retryMinPerSecond = retryMinPerSecond
        }

        public init(_ config: BalancerConfiguration) {
            self.init(
                algorithm: config.algorithm,
                slowStart: config.slowStart,
                passiveFailureThreshold: config.passive.consecutiveFailures,
                passiveCounts5xx: config.passive.count5xx,
                health: config.health,
                retryBudgetPercent: config.retries.budgetPercent,
                retryMinPerSecond: config.retries.minPerSecond
            )
        }
    }

    /// The server chosen for an attempt.
    public struct Choice: Sendable, Equatable {
        public var name: String
        public var address: SocketAddress
        /// True when the request's sticky cookie named this server and it was honoured.
        public var stickyHonoured: Bool
    }

    /// Result of ``pickServer(now:sticky:excluding:isRetry:)``.
    public enum PickAction: Sendable, Equatable {
        /// Send the attempt to this server. The owner must later report ``requestFinished(server:outcome:now:)``.
        case forward(Choice)
        /// No primary or backup server is usable: answer 503.
        case noServerAvailable
    }

    /// How one attempt on a server ended, as far as that server's health is concerned.
    public enum RequestOutcome: Sendable, Equatable {
        /// A response with this status was received.
        case response(status: Int)
        /// No connection could be made.
        case connectFailed
        /// The connection broke (reset, closed) before or during the response.
        case broken
        /// The backend did not answer within the backend timeout.
        case timedOut
        /// The attempt was abandoned for a reason that says nothing about the server (client left).
        case abandoned
    }

    /// Result of ``requestFinished(server:outcome:now:)``.
    public enum FinishAction: Sendable, Equatable {
        case none
        /// Passive detection took the server out; it returns after active checks pass `rise` times.
        case serverEjected(name: String)
    }

    /// Result of a health check or an admin change that may alter usability.
    public struct HealthCheckAction: Sendable, Equatable {
        /// Check this server again after this long; `nil` when the server is no longer configured.
        public var nextCheckIn: TimeAmount?
        public var transition: HealthStateMachine.Transition?
    }

    /// Per-server state.
    struct Server: Sendable {
        var definition: ServerDefinition
        var admin: ServerAdminState = .ready
        var health: HealthStateMachine
        var activeRequests = 0
        var slowStartBegan: NIODeadline?
        /// Smooth weighted round-robin accumulator.
        var currentWeight = 0.0
        var consecutiveFailures = 0
        var counters = Counters()

        struct Counters: Sendable {
            var selected: UInt64 = 0
            var responses2xx: UInt64 = 0
            var responses3xx: UInt64 = 0
            var responses4xx: UInt64 = 0
            var responses5xx: UInt64 = 0
            var failures: UInt64 = 0
            var ejections: UInt64 = 0
        }
    }

    public private(set) var settings: Settings
    var servers: [Server] = []
    private var indexByName: [String: Int] = [:]
    private var random: SplitMix64
    private var leastConnectionsCursor = 0
    /// Storage for the candidate list of ``pickServer(now:sticky:excluding:isRetry:)``, kept
    /// between calls so a pick allocates nothing.
    private var candidateStorage: [Int] = []
    public private(set) var retryBudget: RetryBudget

    public init(servers: [ServerDefinition], settings: Settings, randomSeed: UInt64) {
        self.settings = settings
        self.random = SplitMix64(seed: randomSeed)
        self.retryBudget = RetryBudget(percent: settings.retryBudgetPercent, minPerSecond: settings.retryMinPerSecond)
        self.servers = servers.map { Server(definition: $0, health: Self.makeHealth(settings.health)) }
        reindex()
    }

    private static func makeHealth(_ config: BalancerConfiguration.HealthCheck) -> HealthStateMachine {
        HealthStateMachine(state: .up, fall: config.fall, rise: config.rise, interval: config.interval, fastInterval: config.fastInterval)
    }

    private mutating func reindex() {
        indexByName = Dictionary(uniqueKeysWithValues: servers.enumerated().map { ($1.definition.name, $0) })
    }

    public var serverNames: [String] { servers.map(\.definition.name) }

    /// The current definition of the server called `name`, if it is configured.
    public func definition(named name: String) -> ServerDefinition? {
        indexByName[name].map { servers[$0].definition }
    }

    // MARK: Choosing a server

    /// A request (or a retry of one) needs a server. `sticky` is the server named by the
    /// request's sticky cookie, if any; `excluding` are servers this request already tried.
    public mutating func pickServer(now: NIODeadline, sticky: String?, excluding: [String], isRetry: Bool) -> PickAction {
        if !isRetry { retryBudget.requestStarted() }
        if let sticky, let index = indexByName[sticky], !excluding.contains(sticky) {
            let server = servers[index]
            if server.admin != .maint && server.health.acceptsStickyRequests {
                return .forward(select(index, stickyHonoured: true))
            }
        }
        var candidates = candidateStorage
        candidateStorage = []
        defer { candidateStorage = candidates }
        collectUsable(backup: false, excluding: excluding, into: &candidates)
        if candidates.isEmpty { collectUsable(backup: true, excluding: excluding, into: &candidates) }
        guard !candidates.isEmpty else { return .noServerAvailable }
        let chosen: Int
        switch settings.algorithm {
        case .roundRobin: chosen = pickRoundRobin(candidates, now: now)
        case .leastConnections: chosen = pickLeastConnections(candidates, now: now)
        case .powerOfTwoChoices: chosen = pickPowerOfTwo(candidates, now: now)
        }
        return .forward(select(chosen, stickyHonoured: false))
    }

    private mutating func select(_ index: Int, stickyHonoured: Bool) -> Choice {
        servers[index].activeRequests += 1
        servers[index].counters.selected += 1
        let definition = servers[index].definition
        return Choice(name: definition.name, address: definition.address, stickyHonoured: stickyHonoured)
    }

    /// Replaces the contents of `candidates` with the indices of usable servers of that kind.
    private func collectUsable(backup: Bool, excluding: [String], into candidates: inout [Int]) {
        candidates.removeAll(keepingCapacity: true)
        for index in servers.indices where Self.isUsable(servers[index], backup: backup, excluding: excluding) {
            candidates.append(index)
        }
    }

    private static func isUsable(_ server: Server, backup: Bool, excluding: [String]) -> Bool {
        server.definition.backup == backup && server.admin == .ready && server.health.isServing
            && server.definition.weight > 0 && (excluding.isEmpty || !excluding.contains(server.definition.name))
    }

    /// The weight in force: during slow start it ramps linearly from 5% to 100% of the weight.
    func effectiveWeight(_ index: Int, now: NIODeadline) -> Double {
        let server = servers[index]
        let weight = Double(server.definition.weight)
        guard let began = server.slowStartBegan, settings.slowStart > .zero else { return weight }
        let elapsed = now - began
        guard elapsed < settings.slowStart else { return weight }
        let fraction = Double(max(elapsed.nanoseconds, 0)) / Double(settings.slowStart.nanoseconds)
        return weight * max(0.05, fraction)
    }

    private func isInSlowStart(_ index: Int, now: NIODeadline) -> Bool {
        guard let began = servers[index].slowStartBegan, settings.slowStart > .zero else { return false }
        return now - began < settings.slowStart
    }

    private mutating func pickRoundRobin(_ candidates: [Int], now: NIODeadline) -> Int {
        var total = 0.0
        var best = candidates[0]
        for index in candidates {
            let weight = effectiveWeight(index, now: now)
            servers[index].currentWeight += weight
            total += weight
            if servers[index].currentWeight > servers[best].currentWeight { best = index }
        }
        servers[best].currentWeight -= total
        return best
    }

    private func load(_ index: Int, now: NIODeadline) -> Double {
        Double(servers[index].activeRequests + 1) / effectiveWeight(index, now: now)
    }

    private mutating func pickLeastConnections(_ candidates: [Int], now: NIODeadline) -> Int {
        // Start the scan at a rotating offset so ties are spread instead of always hitting the first.
        leastConnectionsCursor &+= 1
        let offset = leastConnectionsCursor % candidates.count
        var best = candidates[offset]
        var bestLoad = load(best, now: now)
        for step in 1..<candidates.count {
            let index = candidates[(offset + step) % candidates.count]
            let candidateLoad = load(index, now: now)
            if candidateLoad < bestLoad {
                best = index
                bestLoad = candidateLoad
            }
        }
        return best
    }

    private mutating func pickPowerOfTwo(_ candidates: [Int], now: NIODeadline) -> Int {
        guard candidates.count > 1 else { return candidates[0] }
        let first = drawWeighted(candidates, now: now)
        let second = drawWeighted(candidates.filter { $0 != first }, now: now)
        return load(second, now: now) < load(first, now: now) ? second : first
    }

    private mutating func drawWeighted(_ candidates: [Int], now: NIODeadline) -> Int {
        let weights = candidates.map { effectiveWeight($0, now: now) }
        let total = weights.reduce(0, +)
        var point = Double.random(in: 0..<total, using: &random)
        for (index, weight) in zip(candidates, weights) {
            if point < weight { return index }
            point -= weight
        }
        return candidates[candidates.count - 1]
    }

    // MARK: Outcomes

    /// An attempt picked by ``pickServer(now:sticky:excluding:isRetry:)`` ended.
    public mutating func requestFinished(server name: String, outcome: RequestOutcome, now: NIODeadline) -> FinishAction {
        guard let index = indexByName[name] else { return .none }
        servers[index].activeRequests = max(0, servers[index].activeRequests - 1)
        let failed: Bool
        switch outcome {
        case .response(let status):
            switch status {
            case 200..<300: servers[index].counters.responses2xx += 1
            case 300..<400: servers[index].counters.responses3xx += 1
            case 400..<500: servers[index].counters.responses4xx += 1
            default: servers[index].counters.responses5xx += 1
            }
            failed = status >= 500 && settings.passiveCounts5xx
        case .connectFailed, .broken, .timedOut:
            servers[index].counters.failures += 1
            failed = true
        case .abandoned:
            return .none
        }
        guard failed else {
            servers[index].consecutiveFailures = 0
            return .none
        }
        servers[index].consecutiveFailures += 1
        let threshold = settings.passiveFailureThreshold
        guard threshold > 0, servers[index].consecutiveFailures >= threshold else { return .none }
        servers[index].consecutiveFailures = 0
        let action = servers[index].health.passiveEjection()
        guard action.transition == .becameDown else { return .none }
        servers[index].counters.ejections += 1
        return .serverEjected(name: name)
    }

    /// Takes a token from the retry budget for a retry after a request may have reached a backend.
    public mutating func tryWithdrawRetry(now: NIODeadline) -> Bool {
        retryBudget.tryWithdraw(now: now)
    }

    /// An active health check of `name` completed.
    public mutating func healthCheckCompleted(server name: String, result: HealthStateMachine.CheckResult, now: NIODeadline) -> HealthCheckAction {
        guard let index = indexByName[name] else { return HealthCheckAction(nextCheckIn: nil, transition: nil) }
        let action = servers[index].health.checkCompleted(result)
        if action.transition == .becameUp {
            beginSlowStart(index, now: now)
            servers[index].consecutiveFailures = 0
        }
        return HealthCheckAction(nextCheckIn: action.nextCheckIn, transition: action.transition)
    }

    private mutating func beginSlowStart(_ index: Int, now: NIODeadline) {
        servers[index].slowStartBegan = settings.slowStart > .zero ? now : nil
        // A returning server joins the rotation fresh instead of with a stale accumulator.
        servers[index].currentWeight = 0
    }

    // MARK: Operator actions

    /// Result of an admin change.
    public enum AdminResult: Sendable, Equatable {
        case done
        case unknownServer
    }

    /// The operator sets a server's state. Leaving maintenance starts slow start.
    public mutating func setAdminState(server name: String, to state: ServerAdminState, now: NIODeadline) -> AdminResult {
        guard let index = indexByName[name] else { return .unknownServer }
        let previous = servers[index].admin
        servers[index].admin = state
        if previous == .maint && state == .ready { beginSlowStart(index, now: now) }
        return .done
    }

    /// The operator sets a server's weight (0...1000).
    public mutating func setWeight(server name: String, to weight: Int, now: NIODeadline) -> AdminResult {
        guard let index = indexByName[name] else { return .unknownServer }
        servers[index].definition.weight = min(max(weight, 0), 1000)
        return .done
    }

    /// A configuration reload: servers with a known name keep their runtime state (admin
    /// state, health, counters, in-flight count) unless their address changed; new servers start
    /// up and ready; servers no longer listed are forgotten (their in-flight requests finish, and
    /// their outcomes are ignored). Returns the names of servers that are new or changed address,
    /// whose health checks must (re)start.
    public mutating func reconfigure(servers definitions: [ServerDefinition], settings: Settings) -> [String] {
        var restarted: [String] = []
        var next: [Server] = []
        for definition in definitions {
            if let index = indexByName[definition.name], servers[index].definition.address == definition.address {
                var server = servers[index]
                server.definition = definition
                server.health.fall = max(1, settings.health.fall)
                server.health.rise = max(1, settings.health.rise)
                server.health.interval = settings.health.interval
                server.health.fastInterval = settings.health.fastInterval
                next.append(server)
            } else {
                next.append(Server(definition: definition, health: Self.makeHealth(settings.health)))
                restarted.append(definition.name)
            }
        }
        self.settings = settings
        self.retryBudget.percent = settings.retryBudgetPercent
        self.retryBudget.minPerSecond = settings.retryMinPerSecond
        self.servers = next
        reindex()
        return restarted
    }

    // MARK: Observing

    /// A view of every server for the admin API and metrics.
    public func snapshot(now: NIODeadline) -> [ServerStatus] {
        servers.indices.map { index in
            let server = servers[index]
            let health: String
            switch server.health.state {
            case .up: health = "up"
            case .failing: health = "failing"
            case .down: health = "down"
            case .recovering: health = "recovering"
            case .draining: health = "draining"
            }
            return ServerStatus(
                name: server.definition.name,
                address: Self.describe(server.definition.address),
                backup: server.definition.backup,
                state: server.admin,
                health: health,
                usable: server.admin == .ready && server.health.isServing && server.definition.weight > 0,
                weight: server.definition.weight,
                effectiveWeight: (effectiveWeight(index, now: now) * 100).rounded() / 100,
                slowStart: isInSlowStart(index, now: now),
                activeRequests: server.activeRequests,
                selected: server.counters.selected,
                responses2xx: server.counters.responses2xx,
                responses3xx: server.counters.responses3xx,
                responses4xx: server.counters.responses4xx,
                responses5xx: server.counters.responses5xx,
                failures: server.counters.failures,
                ejections: server.counters.ejections
            )
        }
    }

    public static func describe(_ address: SocketAddress) -> String {
        if let ip = address.ipAddress, let port = address.port {
            if case .v6 = address { return "[\(ip)]:\(port)" }
            return "\(ip):\(port)"
        }
        return "\(address)"
    }
}
