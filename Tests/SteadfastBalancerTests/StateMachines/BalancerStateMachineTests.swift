import NIOCore
import Testing

@testable import SteadfastBalancer

@Suite("BalancerStateMachine")
struct BalancerStateMachineTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func server(_ name: String, port: Int, weight: Int = 100, backup: Bool = false) -> BalancerStateMachine.ServerDefinition {
        .init(name: name, address: try! SocketAddress(ipAddress: "127.0.0.1", port: port), weight: weight, backup: backup)
    }

    static func machine(
        _ servers: [BalancerStateMachine.ServerDefinition] = [server("a", port: 1), server("b", port: 2), server("c", port: 3)],
        algorithm: BalancingAlgorithm = .roundRobin,
        slowStart: TimeAmount = .zero,
        passive: Int = 3
    ) -> BalancerStateMachine {
        var health = BalancerConfiguration.HealthCheck()
        health.fall = 2
        health.rise = 2
        return BalancerStateMachine(
            servers: servers,
            settings: .init(algorithm: algorithm, slowStart: slowStart, passiveFailureThreshold: passive, health: health),
            randomSeed: 42
        )
    }

    /// Picks `count` times (finishing each request at once) and returns the chosen names.
    static func picks(_ machine: inout BalancerStateMachine, _ count: Int, now: NIODeadline = t0, sticky: String? = nil) -> [String] {
        (0..<count).map { _ in
            guard case .forward(let choice) = machine.pickServer(now: now, sticky: sticky, excluding: [], isRetry: false) else {
                return "-"
            }
            _ = machine.requestFinished(server: choice.name, outcome: .response(status: 200), now: now)
            return choice.name
        }
    }

    @Test func roundRobinRotatesEvenly() {
        var lb = Self.machine()
        #expect(Self.picks(&lb, 6) == ["a", "b", "c", "a", "b", "c"])
    }

    @Test func smoothWeightedRoundRobinFollowsWeights() {
        var lb = Self.machine([Self.server("a", port: 1, weight: 500), Self.server("b", port: 2, weight: 100), Self.server("c", port: 3, weight: 100)])
        // nginx's smooth weighted round-robin with 5:1:1.
        #expect(Self.picks(&lb, 7) == ["a", "a", "b", "a", "c", "a", "a"])
    }

    @Test func weightZeroTakesNoNewRequests() {
        var lb = Self.machine([Self.server("a", port: 1, weight: 0), Self.server("b", port: 2)])
        #expect(Self.picks(&lb, 3) == ["b", "b", "b"])
    }

    @Test func leastConnectionsPrefersTheLeastBusy() {
        var lb = Self.machine(algorithm: .leastConnections)
        var held: [String] = []
        for _ in 0..<3 {
            guard case .forward(let choice) = lb.pickServer(now: Self.t0, sticky: nil, excluding: [], isRetry: false) else {
                Issue.record("no server")
                return
            }
            held.append(choice.name)
        }
        #expect(Set(held) == ["a", "b", "c"], "three requests in flight spread over three servers")
        _ = lb.requestFinished(server: "b", outcome: .response(status: 200), now: Self.t0)
        guard case .forward(let next) = lb.pickServer(now: Self.t0, sticky: nil, excluding: [], isRetry: false) else {
            Issue.record("no server")
            return
        }
        #expect(next.name == "b")
    }

    @Test func powerOfTwoChoicesAvoidsTheBusyServer() {
        var lb = Self.machine(algorithm: .powerOfTwoChoices)
        // Load "a" with ten in-flight requests (retries exclude the others to force the choice).
        for _ in 0..<10 { _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["b", "c"], isRetry: false) }
        let names = Self.picks(&lb, 60)
        #expect(!names.contains("a"), "with two draws, the loaded server always loses to an idle one")
        #expect(names.filter { $0 == "b" }.count > 10)
        #expect(names.filter { $0 == "c" }.count > 10)
    }

    @Test func backupsServeOnlyWhenNoPrimaryIsUsable() {
        var lb = Self.machine([Self.server("a", port: 1), Self.server("b", port: 2), Self.server("spare", port: 3, backup: true)])
        #expect(!Self.picks(&lb, 10).contains("spare"))
        _ = lb.setAdminState(server: "a", to: .maint, now: Self.t0)
        _ = lb.healthCheckCompleted(server: "b", result: .failed, now: Self.t0)
        #expect(Self.picks(&lb, 2) == ["b", "b"], "a failing server still serves until fall")
        _ = lb.healthCheckCompleted(server: "b", result: .failed, now: Self.t0)
        #expect(Self.picks(&lb, 3) == ["spare", "spare", "spare"])
        _ = lb.healthCheckCompleted(server: "b", result: .passed, now: Self.t0)
        #expect(lb.healthCheckCompleted(server: "b", result: .passed, now: Self.t0).transition == .becameUp)
        #expect(Self.picks(&lb, 3) == ["b", "b", "b"], "traffic moves back to the primary")
    }

    @Test func noUsableServerMeans503() {
        var lb = Self.machine([Self.server("a", port: 1)])
        _ = lb.setAdminState(server: "a", to: .drain, now: Self.t0)
        #expect(lb.pickServer(now: Self.t0, sticky: nil, excluding: [], isRetry: false) == .noServerAvailable)
    }

    @Test func retriesExcludeServersAlreadyTried() {
        var lb = Self.machine()
        guard case .forward(let retry) = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["a", "b"], isRetry: true) else {
            Issue.record("no server")
            return
        }
        #expect(retry.name == "c")
        #expect(lb.pickServer(now: Self.t0, sticky: nil, excluding: ["a", "b", "c"], isRetry: true) == .noServerAvailable)
    }

    @Test func stickyCookieIsHonouredEvenWhileDraining() {
        var lb = Self.machine()
        #expect(Self.picks(&lb, 3, sticky: "b") == ["b", "b", "b"])
        _ = lb.setAdminState(server: "b", to: .drain, now: Self.t0)
        #expect(Self.picks(&lb, 2, sticky: "b") == ["b", "b"], "drain still takes sticky requests")
        #expect(!Self.picks(&lb, 6).contains("b"), "but no new ones")
        guard case .forward(let choice) = lb.pickServer(now: Self.t0, sticky: "b", excluding: [], isRetry: false) else {
            Issue.record("no server")
            return
        }
        #expect(choice.stickyHonoured)
    }

    @Test func aStuckClientOfAServerInMaintenanceOrDownIsRestuck() {
        var lb = Self.machine()
        _ = lb.setAdminState(server: "b", to: .maint, now: Self.t0)
        guard case .forward(let choice) = lb.pickServer(now: Self.t0, sticky: "b", excluding: [], isRetry: false) else {
            Issue.record("no server")
            return
        }
        #expect(choice.name != "b")
        #expect(!choice.stickyHonoured, "the proxy sets a new cookie")
        _ = lb.setAdminState(server: "b", to: .ready, now: Self.t0)
        _ = lb.healthCheckCompleted(server: "c", result: .failed, now: Self.t0)
        _ = lb.healthCheckCompleted(server: "c", result: .failed, now: Self.t0)
        guard case .forward(let other) = lb.pickServer(now: Self.t0, sticky: "c", excluding: [], isRetry: false) else {
            Issue.record("no server")
            return
        }
        #expect(other.name != "c")
        #expect(Self.picks(&lb, 2, sticky: "nonexistent").count == 2)
    }

    @Test func passiveDetectionEjectsAfterConsecutiveFailures() {
        var lb = Self.machine(passive: 3)
        _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["b", "c"], isRetry: false)
        #expect(lb.requestFinished(server: "a", outcome: .connectFailed, now: Self.t0) == .none)
        _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["b", "c"], isRetry: false)
        #expect(lb.requestFinished(server: "a", outcome: .response(status: 502), now: Self.t0) == .none)
        _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["b", "c"], isRetry: false)
        #expect(lb.requestFinished(server: "a", outcome: .broken, now: Self.t0) == .serverEjected(name: "a"))
        #expect(!Self.picks(&lb, 6).contains("a"))
        let status = lb.snapshot(now: Self.t0).first { $0.name == "a" }
        #expect(status?.health == "down")
        #expect(status?.ejections == 1)
        #expect(status?.failures == 2)
        #expect(status?.responses5xx == 1)
        // Checks bring it back after `rise` passes.
        _ = lb.healthCheckCompleted(server: "a", result: .passed, now: Self.t0)
        #expect(lb.healthCheckCompleted(server: "a", result: .passed, now: Self.t0).transition == .becameUp)
        #expect(Self.picks(&lb, 3).contains("a"))
    }

    @Test func aSuccessResetsTheFailureCount() {
        var lb = Self.machine(passive: 2)
        for outcome in [BalancerStateMachine.RequestOutcome.connectFailed, .response(status: 200), .connectFailed] {
            _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["b", "c"], isRetry: false)
            #expect(lb.requestFinished(server: "a", outcome: outcome, now: Self.t0) == .none)
        }
    }

    @Test func abandonedRequestsSayNothingAboutTheServer() {
        var lb = Self.machine(passive: 1)
        _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["b", "c"], isRetry: false)
        #expect(lb.requestFinished(server: "a", outcome: .abandoned, now: Self.t0) == .none)
        #expect(lb.snapshot(now: Self.t0).first?.activeRequests == 0)
    }

    @Test func slowStartRampsAReturningServerUp() {
        var lb = Self.machine(slowStart: .seconds(10))
        _ = lb.healthCheckCompleted(server: "a", result: .failed, now: Self.t0)
        _ = lb.healthCheckCompleted(server: "a", result: .failed, now: Self.t0)
        _ = lb.healthCheckCompleted(server: "a", result: .passed, now: Self.t0)
        _ = lb.healthCheckCompleted(server: "a", result: .passed, now: Self.t0)
        #expect(lb.effectiveWeight(0, now: Self.t0) == 5, "5% of 100 at the start")
        #expect(lb.effectiveWeight(0, now: Self.t0 + .seconds(5)) == 50)
        #expect(lb.effectiveWeight(0, now: Self.t0 + .seconds(10)) == 100)
        let early = Self.picks(&lb, 100, now: Self.t0 + .seconds(1))
        #expect(early.filter { $0 == "a" }.count < 10, "about 10/210 of the traffic one second in")
        let snapshot = lb.snapshot(now: Self.t0 + .seconds(1)).first { $0.name == "a" }
        #expect(snapshot?.slowStart == true)
        #expect(lb.snapshot(now: Self.t0 + .seconds(11)).first?.slowStart == false)
    }

    @Test func leavingMaintenanceStartsSlowStart() {
        var lb = Self.machine(slowStart: .seconds(10))
        _ = lb.setAdminState(server: "c", to: .maint, now: Self.t0)
        #expect(lb.setAdminState(server: "c", to: .ready, now: Self.t0) == .done)
        #expect(lb.effectiveWeight(2, now: Self.t0 + .seconds(2)) == 20)
        #expect(lb.setAdminState(server: "zzz", to: .ready, now: Self.t0) == .unknownServer)
    }

    @Test func a503CheckDrainsTheServer() {
        var lb = Self.machine()
        #expect(lb.healthCheckCompleted(server: "b", result: .drainRequested, now: Self.t0).transition == .startedDraining)
        #expect(!Self.picks(&lb, 6).contains("b"))
        #expect(Self.picks(&lb, 1, sticky: "b") == ["b"])
    }

    @Test func reloadKeepsRuntimeStateOfKnownServers() {
        var lb = Self.machine()
        _ = lb.setAdminState(server: "a", to: .drain, now: Self.t0)
        _ = lb.pickServer(now: Self.t0, sticky: nil, excluding: ["a", "c"], isRetry: false)
        let restarted = lb.reconfigure(
            servers: [Self.server("a", port: 1), Self.server("b", port: 2, weight: 300), Self.server("d", port: 4), Self.server("c", port: 33)],
            settings: lb.settings
        )
        #expect(restarted == ["d", "c"], "new servers and moved servers get fresh state and health checks")
        let snapshot = lb.snapshot(now: Self.t0)
        #expect(snapshot.map(\.name) == ["a", "b", "d", "c"])
        #expect(snapshot[0].state == .drain)
        #expect(snapshot[1].weight == 300)
        #expect(snapshot[1].activeRequests == 1, "in-flight requests are still counted")
        #expect(lb.requestFinished(server: "gone", outcome: .connectFailed, now: Self.t0) == .none)
        #expect(lb.healthCheckCompleted(server: "gone", result: .passed, now: Self.t0).nextCheckIn == nil)
    }
}
