import Foundation
import SteadfastDomain
import NIOHTTP1

/// `cluster status`, `down`, `rolling-restart`, and the balancer's admin API.
extension ClusterController {
    // MARK: status

    /// Every component's role, address, health, pid and lag, checked now (concurrently, each
    /// check bounded to a few seconds).
    public func status() async -> ClusterStatus {
        let servers = await balancerServers()
        let adminStates = Dictionary(servers.compactMap { server in
            (server["name"] as? String).map { ($0, server["state"] as? String ?? "") }
        }, uniquingKeysWith: { first, _ in first })
        let components = await withTaskGroup(of: (Int, ClusterStatus.Component).self) { group in
            for (index, component) in state.components.enumerated() {
                group.addTask { (index, await componentStatus(component, adminState: adminStates[component.name])) }
            }
            var results: [(Int, ClusterStatus.Component)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var withLag = components
        let primaryRoles: Set<ClusterStatus.Role> = [.primary, .leader]
        if let primary = components.first(where: { $0.role.map(primaryRoles.contains) ?? false }), let spec = state.component(primary.name) {
            let lag = await replicationLag(primary: spec)
            for index in withLag.indices where withLag[index].kind == .database && withLag[index].role != nil {
                withLag[index].lagBytes = lag[withLag[index].name]
            }
        }
        return ClusterStatus(
            directory: state.directory, url: state.url, admin: admin, topology: state.options.topology, db: state.options.database,
            sticky: state.options.sticky, balancerAdmin: state.balancerAdminURL, balancerAdminTokenFile: state.balancerTokenFile, components: withLag
        )
    }

    func componentStatus(_ component: ComponentSpec, adminState: String?) async -> ClusterStatus.Component {
        var status = ClusterStatus.Component(name: component.name, kind: component.kind, address: component.address, health: .down, pid: nil)
        let record = record(component.name)
        guard let record, ProcessControl.isRunning(record) else {
            status.health = record?.stopped == true ? .stopped : .down
            return status
        }
        status.pid = record.pid
        switch component.kind {
        case .node:
            let answer = await HTTPProbe.get("http://\(component.address)/readyz", timeout: .seconds(3))
            if answer?.json?["status"] as? String == "draining" || adminState == "drain" || adminState == "maint" {
                status.health = .draining
            } else {
                status.health = answer?.status == 200 ? .up : .down
            }
        case .database:
            status.role = await role(component)
            let answers = status.role != nil ? true : await isReady(component)
            status.health = answers ? .up : .down
        default:
            status.health = await isReady(component) ? .up : .down
        }
        return status
    }

    // MARK: down

    /// Stops everything gracefully, front to back (balancer, nodes, storage, databases, etcd);
    /// kills what does not stop in time. With `purge`, deletes the directory afterwards.
    public func down(purge: Bool) async throws(ClusterError) {
        let tiers: [[ComponentKind]] = [[.balancer], [.node], [.storage], [.database], [.etcd]]
        var failures: [String] = []
        for kinds in tiers {
            let tier = state.components.filter { kinds.contains($0.kind) }
            let errors = await withTaskGroup(of: String?.self) { group in
                for component in tier {
                    group.addTask {
                        do { try await stop(component.name) } catch { return "\(error)" }
                        return nil
                    }
                }
                var errors: [String] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            failures += errors
        }
        if purge {
            do { try FileManager.default.removeItem(atPath: state.directory) } catch {
                throw ClusterError("everything stopped, but \(state.directory) could not be deleted: \(error.localizedDescription)")
            }
            say("deleted \(state.directory)")
        }
        if !failures.isEmpty {
            throw ClusterError("everything is stopped, but not all of it gracefully:\n  " + failures.joined(separator: "\n  "))
        }
    }

    // MARK: the balancer's admin API

    var balancerToken: String {
        ((try? String(contentsOfFile: state.balancerTokenFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var balancerHeaders: [String: String] { ["Authorization": "Bearer \(balancerToken)"] }

    /// `GET /servers`, or nothing when the balancer does not answer.
    func balancerServers() async -> [[String: Any]] {
        guard running("balancer") != nil,
              let answer = await HTTPProbe.get(state.balancerAdminURL + "/servers", headers: balancerHeaders), answer.status == 200 else { return [] }
        return answer.json?["servers"] as? [[String: Any]] ?? []
    }

    func balancerServer(_ name: String) async throws(ClusterError) -> [String: Any] {
        guard let answer = await HTTPProbe.get(state.balancerAdminURL + "/servers/\(name)", headers: balancerHeaders), answer.status == 200, let json = answer.json else {
            throw ClusterError("the balancer's admin API (\(state.balancerAdminURL)) did not report \(name); is the balancer running?")
        }
        return json
    }

    func setBalancerState(_ name: String, _ adminState: RollingRestartMachine.BalancerState) async throws(ClusterError) {
        var headers = balancerHeaders
        headers["Content-Type"] = "application/json"
        let answer = await HTTPProbe.send(.POST, state.balancerAdminURL + "/servers/\(name)", headers: headers, body: #"{"state": "\#(adminState.rawValue)"}"#)
        guard answer?.status == 200 else {
            throw ClusterError("the balancer refused to set \(name) to \(adminState.rawValue) (\(answer.map { "\($0.status) \($0.body)" } ?? "no answer"))")
        }
    }

    // MARK: rolling restart

    /// Restarts every node, one at a time (see ``RollingRestartMachine``). `runningJobs` counts
    /// the scheduled jobs a node runs now (from the database every node shares).
    public func rollingRestart(runningJobs: @escaping @Sendable (String) async throws -> Int) async throws(ClusterError) {
        guard running("balancer") != nil else { throw ClusterError("the balancer is not running: start it first (`steadfast cluster start balancer`)") }
        let nodes = state.components(.node).map(\.name)
        var machine = RollingRestartMachine(nodes: nodes)
        let began = ContinuousClock.now
        var event = RollingRestartMachine.Event.begin
        var notesShown = 0
        while true {
            let action = machine.handle(event, now: ContinuousClock.now - began)
            for note in machine.notes.dropFirst(notesShown) { say("note: \(note)") }
            notesShown = machine.notes.count
            do {
                switch action {
                case .finished:
                    say("rolling restart done: \(nodes.count) nodes in \(DurationText.formatMeasured(ContinuousClock.now - began))")
                    return
                case .failed(let reason):
                    throw RollingRestartFailure(reason: reason)
                case .setBalancerState(let node, let adminState):
                    if adminState == .drain { say("\(node): draining at the balancer") }
                    if adminState == .ready { say("\(node): back in rotation") }
                    try await setBalancerState(node, adminState)
                    event = .balancerStateSet
                case .checkActiveRequests(let node, let after):
                    try? await Task.sleep(for: after)
                    let server = try await balancerServer(node)
                    event = .activeRequests(server["active_requests"] as? Int ?? 0)
                case .checkRunningJobs(let node, let after):
                    try? await Task.sleep(for: after)
                    do { event = .runningJobs(try await runningJobs(node)) } catch {
                        say("\(node): cannot read its running jobs (\(error)); relying on its graceful shutdown")
                        event = .runningJobs(0)
                    }
                case .stop(let node):
                    try await stop(node)
                    event = .stopped
                case .start(let node):
                    _ = try spawn(try state.require(node))
                    event = .started
                case .checkNodeReady(let node, let after):
                    try? await Task.sleep(for: after)
                    guard running(node) != nil else {
                        throw ClusterError("\(node) exited after its restart; the end of \(state.logFile(node)):\n\(ClusterFiles.tail(state.logFile(node)))")
                    }
                    event = .nodeReady(await isReady(try state.require(node)))
                case .checkBalancerHealth(let node, let after):
                    try? await Task.sleep(for: after)
                    event = .balancerHealthUp(try await balancerServer(node)["health"] as? String == "up")
                }
            } catch let failure as RollingRestartFailure {
                throw ClusterError("rolling restart stopped: \(failure.reason)")
            } catch {
                event = .operationFailed("\(error)")
            }
        }
    }
}

/// The machine gave up: ends the driver loop (other errors become `.operationFailed` events).
private struct RollingRestartFailure: Error {
    let reason: String
}
