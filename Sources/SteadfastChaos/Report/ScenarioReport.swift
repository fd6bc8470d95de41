import Foundation
import Mustache

/// Everything about one scenario's run: `SCENARIO.json` is this, encoded.
public struct ScenarioReport: Codable, Sendable {
    public struct Cluster: Codable, Sendable {
        public var url: String
        public var topology: String
        public var db: String
        public var sticky: Bool
        public var nodes: Int
    }

    public var scenario: Scenario
    public var started: Date
    /// How long the load ran.
    public var seconds: Double
    public var cluster: Cluster
    public var paymentMode: PaymentMode
    public var visitors: Int
    public var statistics: RunStatistics
    public var fault: FaultTimeline
    public var audit: [AuditCheck]
    public var targets: [TargetResult]
    public var records: [RequestRecord]

    /// Every target kept.
    public var passed: Bool { !targets.isEmpty && targets.allSatisfy(\.passed) }

    public init(
        scenario: Scenario, started: Date, seconds: Double, cluster: Cluster, paymentMode: PaymentMode, visitors: Int, statistics: RunStatistics,
        fault: FaultTimeline, audit: [AuditCheck], targets: [TargetResult], records: [RequestRecord]
    ) {
        self.scenario = scenario
        self.started = started
        self.seconds = seconds
        self.cluster = cluster
        self.paymentMode = paymentMode
        self.visitors = visitors
        self.statistics = statistics
        self.fault = fault
        self.audit = audit
        self.targets = targets
        self.records = records
    }

    /// One line for the terminal.
    public var summaryLine: String {
        let missed = targets.filter { !$0.passed }.map(\.name)
        let head = "\(scenario.rawValue): \(passed ? "PASS" : "FAIL") — \(statistics.requests) requests, \(statistics.failed) failed, availability \(TimelineChart.n(statistics.availabilityPercent))%"
        return missed.isEmpty ? head : head + "; missed: " + missed.joined(separator: "; ")
    }
}

/// Writes `SCENARIO.json`, `SCENARIO.html` and `index.html` under the report directory. The HTML
/// comes from the Mustache templates in `Templates/` (HTML-escaped values), the timeline from
/// ``TimelineChart``.
public struct ReportWriter: Sendable {
    public let directory: URL
    let library: MustacheLibrary

    public init(directory: URL) async throws {
        self.directory = directory
        guard let templates = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw ChaosError("the report templates are missing from the build (SteadfastChaos resources)")
        }
        library = try await MustacheLibrary(directory: templates.path)
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    @discardableResult
    public func write(_ report: ScenarioReport) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.encoder().encode(report).write(to: directory.appendingPathComponent("\(report.scenario.rawValue).json"))
        let html = directory.appendingPathComponent("\(report.scenario.rawValue).html")
        try Data(render("report", Self.values(report)).utf8).write(to: html)
        return html
    }

    public func writeIndex(_ reports: [ScenarioReport]) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("index.html")
        let rows: [[String: Any]] = reports.map { report in
            [
                "scenario": report.scenario.rawValue, "summary": report.scenario.summary, "passed": report.passed,
                "requests": report.statistics.requests, "failed": report.statistics.failed,
                "availability": TimelineChart.n(report.statistics.availabilityPercent),
                "missed": report.targets.filter { !$0.passed }.map(\.name).joined(separator: "; "),
            ]
        }
        try Data(render("index", ["reports": rows, "passed": reports.allSatisfy(\.passed), "count": reports.count]).utf8).write(to: url)
        return url
    }

    func render(_ template: String, _ values: [String: Any]) throws -> String {
        guard let text = library.render(values, withTemplate: template) else { throw ChaosError("no report template \(template)") }
        return text
    }

    /// The template's values: every string is escaped by Mustache except `timeline`, which is the
    /// SVG builder's output (escaped by the builder).
    static func values(_ report: ScenarioReport) -> [String: Any] {
        let stats = report.statistics
        let failures: [[String: Any]] = stats.failuresByKind.sorted { $0.key < $1.key }.map { ["kind": $0.key, "count": $0.value] }
        var failedRoutes: [String: Int] = [:]
        for record in report.records where record.failed { failedRoutes["\(record.route) → \(record.failure?.rawValue ?? "")", default: 0] += 1 }
        return [
            "scenario": report.scenario.rawValue, "summary": report.scenario.summary, "passed": report.passed,
            "started": ISO8601DateFormatter().string(from: report.started), "seconds": TimelineChart.n(report.seconds),
            "cluster": [
                "url": report.cluster.url, "topology": report.cluster.topology, "db": report.cluster.db,
                "sticky": report.cluster.sticky ? "sticky" : "not sticky", "nodes": report.cluster.nodes,
            ] as [String: Any],
            "paymentMode": report.paymentMode.rawValue, "visitors": report.visitors,
            "requests": stats.requests, "failed": stats.failed, "availability": TimelineChart.n(stats.availabilityPercent),
            "p50": TimelineChart.n(stats.p50Milliseconds), "p99": TimelineChart.n(stats.p99Milliseconds), "max": TimelineChart.n(stats.maxMilliseconds),
            "streakCount": stats.longestErrorStreak.count, "streakSeconds": TimelineChart.n(stats.longestErrorStreak.seconds),
            "streakStart": TimelineChart.n(stats.longestErrorStreak.start),
            "failures": failures, "hasFailures": !failures.isEmpty,
            "failedRoutes": failedRoutes.sorted { $0.value > $1.value }.prefix(20).map { ["route": $0.key, "count": $0.value] as [String: Any] },
            "faultStart": TimelineChart.n(report.fault.start), "faultRecovered": TimelineChart.n(report.fault.recovered),
            "marks": report.fault.marks.map { ["at": TimelineChart.n($0.at), "label": $0.label] as [String: Any] },
            "faultErrors": report.fault.errors,
            "targets": report.targets.map { ["name": $0.name, "passed": $0.passed, "detail": $0.detail] as [String: Any] },
            "audit": report.audit.map { ["name": $0.name, "passed": $0.passed, "detail": $0.detail, "problems": $0.problems] as [String: Any] },
            "timeline": TimelineChart.svg(stats, fault: report.fault).render(),
        ]
    }
}
