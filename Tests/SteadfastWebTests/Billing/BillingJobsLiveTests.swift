import Foundation
import SteadfastTestSupport
import Testing

/// The scheduler's `billing` job runs recurring billing: on its schedule, and by hand on every node at once,
/// each service still gets exactly one renewal invoice per period.
@Suite(.serialized)
struct BillingJobsLiveTests {
    @Test(arguments: BillingLive.Engine.allCases)
    func theSchedulerIssuesEachRenewalOnceWhateverRunsIt(_ engine: BillingLive.Engine) async throws {
        // A 40-day lead puts services ordered today in the renewal window; the jobs run every 2 s.
        let live = try await BillingLive.start(engine, name: "renewjobs", settings: [
            "billing.renewal_lead_days=40", "jobs.billing.schedule=every 2s", "jobs.poll_interval=200ms", "jobs.lease=3s",
        ])
        defer { live.stop() }
        let client = try await live.client("jobs")
        let (_, invoice) = try await live.order(client, count: 5)
        try await live.pay(client, invoice: invoice)
        let services = (try await client.get("/api/v1/services?limit=50").json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(services.count == 5)

        // Manual runs queued on every node while scheduled slots keep coming.
        for i in 0..<live.nodes.count * 2 {
            let queued = try await live.staff.pointed(at: live.node(i).baseURL).postJSON("/api/v1/admin/jobs/billing/run", [:])
            #expect(queued.status == 202, "\(queued.body)")
        }
        #expect(await eventually(timeout: .seconds(30)) {
            let runs = (try? await live.staff.get("/api/v1/admin/jobs/billing/runs").json["runs"]) as? [[String: Any]] ?? []
            let manual = runs.filter { $0["kind"] as? String == "manual" && $0["state"] as? String == "succeeded" }
            let scheduled = runs.filter { $0["kind"] as? String != "manual" && $0["state"] as? String == "succeeded" }
            return manual.count == live.nodes.count * 2 && scheduled.count >= 2
        }, "every manual run and at least two scheduled slots succeeded")

        let renewals = try await renewalLines(live)
        #expect(Set(renewals.map(\.service)) == Set(services), "every service got its renewal")
        #expect(renewals.count == services.count, "one renewal line per service and period: \(renewals)")

        // A later run (scheduled or manual) finds nothing left to do.
        let again = try await live.staff.postJSON("/api/v1/admin/billing/run", ["task": "all"])
        #expect(again.json["renewal_invoices"] as? Int == 0)
        #expect(try await renewalLines(live).count == services.count)
    }

    /// (service, period start) of every renewal line on any invoice.
    private func renewalLines(_ live: BillingLive) async throws -> [(service: String, period: String)] {
        var lines: [(service: String, period: String)] = []
        for summary in try await live.all("/api/v1/admin/invoices") where summary["order_id"] == nil || summary["order_id"] is NSNull {
            let invoice = try await live.staff.get("/api/v1/admin/invoices/\(summary["id"] as! String)").json
            for line in invoice["lines"] as? [[String: Any]] ?? [] where line["kind"] as? String == "renewal" {
                lines.append((line["service_id"] as? String ?? "", line["period_start"] as? String ?? ""))
            }
        }
        return lines
    }
}
