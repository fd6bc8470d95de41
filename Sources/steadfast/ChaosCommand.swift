import ArgumentParser
import AsyncHTTPClient
import Foundation
import SteadfastChaos
import SteadfastDomain

/// `steadfast chaos`: load through the balancer of a `steadfast cluster` while one fault is
/// injected, then an audit and the targets (docs/chaos.md). Exit status 1 when a target is missed.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run load against a cluster started by `steadfast cluster up` while injecting a fault; audit and check the targets.",
        discussion: "Scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")). Reports go to --report (SCENARIO.json, SCENARIO.html, index.html)."
    )

    @Option(help: "The fault to inject: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")); several, comma-separated, run one after another.")
    var scenario: String?

    @Flag(help: "Run every scenario, one after another (index.html links the reports).")
    var all = false

    @Option(help: "How long the load runs per scenario (seconds, or 30s, 2m); it goes on until 5 s after the fault is undone.")
    var duration = "20"

    @Option(help: "Directory for the reports.")
    var report = "./chaos-report"

    @Option(help: "The cluster's directory (as given to `steadfast cluster up --dir`).")
    var dir = "./steadfast-cluster"

    @Option(help: "Simulated customers, each with its own session.")
    var visitors = 4

    @Option(name: .customLong("patroni-ttl"), help: "Patroni's ttl in the cluster (the db-failover target with --db patroni is ttl + 1 s).")
    var patroniTTL = "10s"

    func validate() throws {
        if all == (scenario != nil) {
            throw ValidationError("give either --scenario SCENARIO or --all")
        }
        if let scenario, let unknown = scenario.split(separator: ",", omittingEmptySubsequences: false).first(where: { Scenario(rawValue: String($0)) == nil }) {
            throw ValidationError("--scenario must be one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")) (or several, comma-separated), not '\(unknown)'")
        }
        guard let seconds = Self.seconds(duration), (5...3600).contains(seconds) else {
            throw ValidationError("--duration must be between 5 s and 1 h (e.g. 20, 30s, 2m), not '\(duration)'")
        }
        guard let ttl = Self.seconds(patroniTTL), ttl > 0, ttl <= 600 else {
            throw ValidationError("--patroni-ttl must be a duration up to 10m (e.g. 10s), not '\(patroniTTL)'")
        }
        guard (1...64).contains(visitors) else {
            throw ValidationError("--visitors must be between 1 and 64, not \(visitors)")
        }
    }

    static func seconds(_ text: String) -> Double? {
        DurationText.parse(text)?.totalSeconds
    }

    func run() async throws {
        let scenarios = all ? Scenario.allCases : (scenario ?? "").split(separator: ",").compactMap { Scenario(rawValue: String($0)) }
        var options = ChaosOptions()
        options.duration = Self.seconds(duration) ?? 20
        options.visitors = visitors
        options.targets.patroniTTL = Self.seconds(patroniTTL) ?? 10
        // On a terminal one line rewritten in place; in a log (CI) one line each.
        let terminal = isatty(STDERR_FILENO) == 1
        options.progress = { line in FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[2K\(line)" : "\(line)\n").utf8)) }

        // The pool retires an idle connection well before the balancer's `client_idle_timeout`
        // (60 s) would close it: with equal timeouts the balancer, whose clock starts first, closes
        // a connection the pool still thinks usable, and a request sent into that gap is reset
        // unanswered — a client-side race, not a failure of the cluster under test.
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2)),
                connectionPool: .init(idleTimeout: .seconds(30))
            )
        )
        let control = ClusterCLI(directory: dir)
        let writer = try await ReportWriter(directory: URL(fileURLWithPath: report, isDirectory: true))
        let run = ChaosRun(control: control, http: http, options: options)
        var reports: [ScenarioReport] = []
        do {
            let status = try await control.status()
            let accounts = try await run.registerVisitors(status: status)
            for scenario in scenarios {
                if all, let reason = ChaosRun.unsupported(scenario, status: status) {
                    print("\(scenario.rawValue): skipped — \(reason)")
                    continue
                }
                let result = try await run.run(scenario, accounts: accounts)
                let html = try writer.write(result)
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
                print(result.summaryLine)
                for target in result.targets {
                    print("  \(target.passed ? "pass" : "FAIL")  \(target.name): \(target.detail)")
                }
                print("  report: \(html.path)")
                fflush(nil)
                reports.append(result)
            }
            if reports.count > 1 { print("index: \(try writer.writeIndex(reports).path)") }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        if !reports.allSatisfy(\.passed) { throw ExitCode(1) }
    }
}
