import AsyncHTTPClient
import Foundation

/// What a run needs besides the cluster: how long, how many visitors, where progress goes.
public struct ChaosOptions: Sendable {
    /// Seconds of load; the load goes on at least ``tail`` seconds after the fault is undone.
    public var duration: Double = 20
    public var tail: Double = 5
    public var visitors: Int = 4
    public var thinkTime: Duration = .milliseconds(100)
    /// Fresh registrations during the run (registrations are rate limited per client IP).
    public var newcomers: Int = 1
    public var targets = TargetSettings()
    /// Receives the progress line (stderr in the command).
    public var progress: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// One scenario against a running cluster: set up (staff log-in, a product, logged-in
/// visitors), run the load while the fault is injected, audit, check the targets.
public struct ChaosRun: Sendable {
    let control: any ClusterControl
    let http: HTTPClient
    let options: ChaosOptions

    public init(control: any ClusterControl, http: HTTPClient, options: ChaosOptions) {
        self.control = control
        self.http = http
        self.options = options
    }

    /// The accounts the visitors log in with, registered once per command (registrations are
    /// rate limited per IP, so `chaos --all` reuses them for every scenario).
    public func registerVisitors(status: ClusterStatus) async throws -> [VisitorAccount] {
        let tag = UUID().uuidString.prefix(8).lowercased()
        var accounts: [VisitorAccount] = []
        for index in 0..<options.visitors {
            var session = ChaosSession(http: http, baseURL: status.url)
            let account = VisitorAccount(email: "chaos-\(tag)-\(index)@example.com", password: "chaos visitor \(tag) \(index)")
            let answer = try await session.json(.POST, "/api/v1/auth/register", ["email": account.email, "password": account.password, "name": "Chaos visitor \(index)"])
            if answer.status == 429 {
                throw ChaosError("registering visitor \(index) was refused by the registration rate limit (every request comes from 127.0.0.1): start the cluster with --node-setting security.rate_limit.register_per_ip=off, or wait")
            }
            guard answer.status == 201 else {
                throw ChaosError("registering visitor \(index) answered \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
            }
            accounts.append(account)
        }
        return accounts
    }

    public func run(_ scenario: Scenario, accounts: [VisitorAccount]) async throws -> ScenarioReport {
        let status = try await control.status()
        if let missing = Self.unsupported(scenario, status: status) { throw ChaosError(missing) }
        var targets = options.targets
        if let mode = FailoverMode(rawValue: status.db) { targets.failoverMode = mode }
        let started = Date()
        let setup = try await prepare(status: status)

        // Log every visitor in; a session that answers /api/v1/me now is one that must survive the fault.
        let ledger = LoadLedger(newcomers: options.newcomers)
        var visitors: [Visitor] = []
        var workedBefore: [Int: Bool] = [:]
        for (index, account) in accounts.enumerated() {
            var session = ChaosSession(http: http, baseURL: status.url)
            let login = try await session.json(.POST, "/api/v1/auth/login", ["email": account.email, "password": account.password])
            guard login.status == 200 else { throw ChaosError("visitor \(index) could not log in: \(login.status)") }
            workedBefore[index] = try await session.send(.GET, "/api/v1/me").status == 200
            visitors.append(Visitor(index: index, session: session, setup: setup, ledger: ledger))
        }

        let steps = FaultPlan.steps(scenario, duration: options.duration)
        let injector = FaultInjector(control: control, clock: ContinuousClock(), origin: ledger.origin)
        let (fault, finished) = await withTaskGroup(of: Visitor?.self) { group in
            for visitor in visitors {
                group.addTask {
                    var visitor = visitor
                    await visitor.run()
                    return visitor
                }
            }
            group.addTask { [options] in
                while !ledger.isStopping {
                    try? await Task.sleep(for: .seconds(1))
                    let (requests, failed) = ledger.progress
                    options.progress("\(scenario.rawValue): \(Int(ledger.elapsed()))s, \(requests) requests, \(failed) failed")
                }
                return nil
            }
            let fault = await injector.run(steps)
            let end = max(options.duration, fault.recovered + options.tail)
            try? await Task.sleep(until: ledger.origin.advanced(by: .seconds(end)), clock: .continuous)
            ledger.stop()
            var finished: [Visitor] = []
            for await visitor in group { if let visitor { finished.append(visitor) } }
            return (fault, finished.sorted { $0.index < $1.index })
        }
        let loadSeconds = ledger.elapsed()

        options.progress("\(scenario.rawValue): auditing")
        var input = ledger.auditInput()
        var reader = ClusterReader(staff: setup.staff)
        await reader.fill(&input, visitors: finished, workedBefore: workedBefore)
        let audit = Audit.check(input)
        let records = ledger.records.sorted { $0.start < $1.start }
        let results = Targets.evaluate(
            scenario: scenario, records: records, fault: fault, audit: audit, lostSessions: Audit.lostSessions(input), settings: targets
        )
        return ScenarioReport(
            scenario: scenario, started: started, seconds: loadSeconds,
            cluster: .init(url: status.url, topology: status.topology, db: status.db, sticky: status.sticky, nodes: status.components.count { $0.kind == "node" }),
            paymentMode: setup.paymentMode, visitors: accounts.count, statistics: RunStatistics(records: records), fault: fault, audit: audit,
            targets: results, records: records
        )
    }

    /// Why `scenario` cannot run against this cluster, if it cannot.
    public static func unsupported(_ scenario: Scenario, status: ClusterStatus) -> String? {
        switch scenario {
        case .storageOutage where status.component("storage") == nil:
            "storage-outage needs a storage server to stop: start the cluster with --topology s3"
        case .killNode where status.component(FaultPlan.victim) == nil, .slowNode where status.component(FaultPlan.victim) == nil:
            "\(scenario.rawValue) needs at least two nodes (it takes \(FaultPlan.victim) away)"
        default:
            nil
        }
    }

    /// Staff log-in, a product to order, and which gateway pays.
    func prepare(status: ClusterStatus) async throws -> LoadSetup {
        var staff = ChaosSession(http: http, baseURL: status.url)
        let login = try await staff.json(.POST, "/api/v1/auth/login", ["email": status.admin.email, "password": status.admin.password])
        guard login.status == 200 else { throw ChaosError("the admin could not log in: \(login.status) \(String(decoding: login.body.prefix(300), as: UTF8.self))") }
        let group = try await staff.json(.POST, "/api/v1/admin/product-groups", ["name": "Chaos"])
        guard group.status == 201, let groupID = group.json["id"] as? String else { throw ChaosError("creating a product group answered \(group.status)") }
        let product = try await staff.json(.POST, "/api/v1/admin/products", [
            "group_id": groupID, "name": "Chaos plan", "pricing": [["cycle": "monthly", "recurring": 1000]],
        ])
        guard product.status == 201, let productID = product.json["id"] as? String else {
            throw ChaosError("creating a product answered \(product.status): \(String(decoding: product.body.prefix(300), as: UTF8.self))")
        }
        // The gateway is checked before the invoice: with testcard offered, an unknown invoice
        // is a 404; without it, a 400 naming the field `gateway`.
        let probe = try await staff.json(
            .POST, "/api/v1/invoices/\(UUID().uuidString.lowercased())/pay", ["gateway": "testcard", "card_token": "tok_visa"],
            headers: [("Idempotency-Key", UUID().uuidString)]
        )
        let field = (probe.json["error"] as? [String: Any])?["field"] as? String
        let mode: PaymentMode = probe.status == 400 && field == "gateway" ? .bankTransfer : .testcard
        return LoadSetup(productID: productID, paymentMode: mode, staff: staff, thinkTime: options.thinkTime)
    }
}
