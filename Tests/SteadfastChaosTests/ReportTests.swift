import Foundation
import Testing
@testable import SteadfastChaos

@Suite struct ReportTests {
    @Test func answersAreJudgedByStatusAndSession() {
        #expect(FailureKind.judge(status: 200, location: nil, expected: [200], authenticated: true) == nil)
        #expect(FailureKind.judge(status: 401, location: nil, expected: [200], authenticated: true) == .sessionLost)
        #expect(FailureKind.judge(status: 401, location: nil, expected: [200], authenticated: false) == .unexpected4xx)
        #expect(FailureKind.judge(status: 303, location: "/login?next=%2Fclientarea", expected: [200], authenticated: true) == .sessionLost)
        #expect(FailureKind.judge(status: 303, location: "/elsewhere", expected: [200], authenticated: true) == .other)
        #expect(FailureKind.judge(status: 503, location: nil, expected: [200], authenticated: true) == .serverError)
        #expect(FailureKind.judge(status: 409, location: nil, expected: [201], authenticated: true) == .unexpected4xx)
    }

    @Test func errorsWithoutAnAnswerAreClassified() {
        #expect(FailureKind.classify(ChaosError("connect(descriptor:addr:size:): Connection refused (errno: 111)")) == .connectRefused)
        #expect(FailureKind.classify(ChaosError("Connection reset by peer")) == .reset)
        #expect(FailureKind.classify(ChaosError("deadlineExceeded")) == .timeout)
        #expect(FailureKind.classify(ChaosError("something else")) == .other)
    }

    @Test func routesAreTemplatedSoIdsDoNotSplitThem() {
        #expect(Visitor.template("/api/v1/invoices/4F9C3A2E-8B1D-4C55-9A0E-0C1D2E3F4A5B/pay") == "/api/v1/invoices/{id}/pay")
        #expect(Visitor.template("/api/v1/invoices?limit=20") == "/api/v1/invoices")
    }

    @Test func theSVGBuilderEscapesTextAndAttributes() {
        let element = SVGElement("text", [("data-x", "a\"><script>")], text: "<b>&'")
        #expect(element.render() == "<text data-x=\"a&quot;&gt;&lt;script&gt;\">&lt;b&gt;&amp;&#39;</text>")
        #expect(SVGElement("line", [("x1", "1")]).render() == "<line x1=\"1\"/>")
    }

    @Test func theTimelineMarksTheFaultAndEverySecond() {
        let stats = RunStatistics(records: [ok(0.2), fail(1.5), ok(2.5, 30)])
        let fault = FaultTimeline(start: 1, recovered: 2, marks: [.init(at: 1, label: "cluster kill <node-2>")])
        let svg = TimelineChart.svg(stats, fault: fault).render()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("fault: 1 s to 2 s"))
        #expect(svg.contains("1 s: cluster kill &lt;node-2&gt;"))
        #expect(svg.contains("1 s: 1 requests, 1 errors"))
        #expect(svg.contains("fill=\"#d62828\""))
    }

    @Test func clusterStatusIsReadAsTheContractPrintsIt() throws {
        let json = """
        {"directory": "/abs/c", "url": "http://127.0.0.1:8080", "admin": {"email": "admin@example.com", "password": "pw"},
         "topology": "s3", "db": "promote", "sticky": false, "balancer_admin": "http://127.0.0.1:8081", "balancer_admin_token_file": "/abs/c/token",
         "components": [{"name": "node-1", "kind": "node", "role": null, "address": "127.0.0.1:9001", "health": "up", "pid": 1234, "lag_bytes": null},
                        {"name": "db-2", "kind": "database", "role": "standby", "address": "127.0.0.1:5433", "health": "up", "pid": 99, "lag_bytes": 0}]}
        """
        let status = try ClusterStatus.decode(Data(json.utf8))
        #expect(status.url == "http://127.0.0.1:8080" && status.admin.email == "admin@example.com" && status.db == "promote")
        #expect(status.component("node-1")?.pid == 1234)
        #expect(status.component("db-2")?.lagBytes == 0 && status.component("db-2")?.role == "standby")
        #expect(throws: ChaosError.self) { try ClusterStatus.decode(Data("not json".utf8)) }
    }

    @Test func theReportIsWrittenAsJSONAndEscapedHTML() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let records = [ok(0.5), fail(1.2, .reset, status: nil), ok(2.1)]
        let fault = FaultTimeline(start: 1, recovered: 2, marks: [.init(at: 1, label: "cluster kill node-2")])
        let audit = [AuditCheck(name: "payments exactly once", passed: false, detail: "3 acknowledged", problems: ["<script>alert(1)</script>"])]
        let targets = Targets.evaluate(scenario: .killNode, records: records, fault: fault, audit: audit, lostSessions: 0, settings: TargetSettings())
        let report = ScenarioReport(
            scenario: .killNode, started: Date(timeIntervalSince1970: 0), seconds: 3,
            cluster: .init(url: "http://127.0.0.1:1", topology: "s3", db: "promote", sticky: false, nodes: 3), paymentMode: .testcard, visitors: 2,
            statistics: RunStatistics(records: records), fault: fault, audit: audit, targets: targets, records: records
        )
        #expect(!report.passed)
        let writer = try await ReportWriter(directory: directory)
        let html = try String(contentsOf: try writer.write(report), encoding: .utf8)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"))
        #expect(html.contains("<svg xmlns"))
        #expect(html.contains("zero failed GETs"))
        #expect(html.contains("66.67 %"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("kill-node.json"))) as? [String: Any]
        #expect(json?["scenario"] as? String == "kill-node")
        #expect((json?["records"] as? [Any])?.count == 3)
        #expect(((json?["statistics"] as? [String: Any])?["failures_by_kind"] as? [String: Int]) == ["reset": 1])
        let index = try String(contentsOf: try writer.writeIndex([report]), encoding: .utf8)
        #expect(index.contains("href=\"kill-node.html\""))
    }
}
