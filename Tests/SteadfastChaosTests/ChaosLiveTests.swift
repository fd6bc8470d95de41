import AsyncHTTPClient
import Foundation
import Synchronization
import SteadfastTestSupport
import Testing
@testable import SteadfastChaos

/// A "cluster" of one real node whose fault steps are only recorded: the load, the staff
/// set-up, the bank-transfer payments, the audit's read-back and the report run against a real
/// `steadfast serve`, without the processes a real cluster needs (CI's chaos step runs those).
final class OneNodeCluster: ClusterControl {
    let url: String
    let pid: Int32
    let calls = Mutex<[String]>([])

    init(url: String, pid: Int32) {
        self.url = url
        self.pid = pid
    }

    func status() async throws -> ClusterStatus {
        ClusterStatus(
            directory: "/nonexistent", url: url, admin: .init(email: ChaosLiveTests.staffEmail, password: ChaosLiveTests.password), topology: "shared-dir",
            db: "promote", sticky: false, components: [.init(name: "node-2", kind: "node", health: "up", pid: pid)]
        )
    }

    func run(_ arguments: [String]) async throws { calls.withLock { $0.append(arguments.joined(separator: " ")) } }
    func signal(_ signal: Int32, pid: Int32) throws { calls.withLock { $0.append("\(FaultPlan.signalName(signal)) \(pid)") } }
}

@Suite(.serialized) struct ChaosLiveTests {
    static let staffEmail = "staff@example.com"
    static let password = "correct horse battery"

    @Test func theLoadAndTheAuditAgreeWithARealNode() async throws {
        let node = try await SteadfastNode.start(name: "chaos", arguments: ["--admin-email", Self.staffEmail, "--admin-password", Self.password])
        defer { node.process.send(SIGKILL) }
        let cluster = OneNodeCluster(url: node.baseURL, pid: 1)
        var options = ChaosOptions()
        options.duration = 4
        options.tail = 1
        options.visitors = 2
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2))))
        let run = ChaosRun(control: cluster, http: http, options: options)
        let report: ScenarioReport
        do {
            let accounts = try await run.registerVisitors(status: try await cluster.status())
            report = try await run.run(.killNode, accounts: accounts)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()

        #expect(cluster.calls.withLock { $0 } == ["kill node-2", "start node-2"])
        let missed = report.targets.filter { !$0.passed }.map { "\($0.name): \($0.detail)" }
        #expect(missed.isEmpty, "\(missed)")
        #expect(report.paymentMode == .bankTransfer)
        // Every kind of work ran and was acknowledged; the audit read it all back.
        let kinds = Set(report.records.map(\.kind))
        for kind: RequestKind in [.page, .sessionRead, .apiRead, .addToCart, .checkout, .pay, .recordPayment, .upload] {
            #expect(kinds.contains(kind), "no \(kind.rawValue) request in \(report.statistics.requests)")
        }
        let payments = try #require(report.audit.first { $0.name.hasPrefix("payments") })
        #expect(payments.passed && !payments.detail.hasPrefix("0 acknowledged"))
        let uploads = try #require(report.audit.first { $0.name.hasPrefix("uploads") })
        #expect(uploads.passed && !uploads.detail.contains(" 0 acknowledged"))
        #expect(report.statistics.failed == 0)
    }
}
