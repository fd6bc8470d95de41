import Foundation
import SteadfastJobs
import SteadfastDomain

/// Formats scheduler records for the admin page (times for people, in UTC) and the JSON API
/// (``time(_:)``: ISO 8601).
enum JobsView {
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func duration(_ duration: Duration?) -> String {
        duration.map(DurationText.formatMeasured) ?? "—"
    }

    /// A time for the page: `2026-12-05 18:00:00 UTC`.
    static func shown(_ date: Date?) -> String {
        guard let date else { return "—" }
        return PageValues.dateTime(date)
    }

    /// What the catch-up policy (`run_once`, `run_all:N`, `skip`) does, in words.
    static func catchUp(_ policy: String) -> String {
        if policy == "run_once" { return "one run for all missed" }
        if policy == "skip" { return "skipped" }
        if policy.hasPrefix("run_all:") { return "each run, up to \(policy.dropFirst("run_all:".count))" }
        return policy
    }

    /// A filter of the jobs list as its `<select>` names it.
    static func stateLabel(_ state: JobStore.ListState) -> String {
        switch state {
        case .failing: "failing"
        case .running: "running now"
        case .ok: "last run succeeded"
        case .never: "never run"
        }
    }

    /// What the jobs list says when nothing matches its filter.
    static func empty(_ state: JobStore.ListState?) -> String {
        switch state {
        case nil: "No node has published any jobs yet."
        case .failing?: "No job is failing: every latest run succeeded, is running or has not happened yet."
        case .running?: "No job is running now."
        case .ok?: "No job's latest run succeeded."
        case .never?: "Every job has run at least once."
        }
    }

    /// A row of the jobs table.
    static func row(_ job: JobSummary) -> [String: Any] {
        let last = job.lastRun
        return [
            "name": job.name, "schedule": job.schedule, "catchUp": catchUp(job.catchUp), "timeout": duration(job.timeout),
            "lastSlot": last.map { $0.kind == .manual ? "manual, \(shown($0.slotAt))" : shown($0.slotAt) } ?? "never",
            "lastNode": last?.holder ?? "—", "lastDuration": duration(last?.duration), "lastState": last?.state ?? "—",
            "badge": Badge.values(last?.state ?? "never"),
            "lastError": last?.error ?? "", "nextSlot": shown(job.nextSlotAt), "publishedBy": job.publishedBy,
        ]
    }

    /// A row of a job's history table.
    static func row(_ run: JobRunRecord) -> [String: Any] {
        var row: [String: Any] = [
            "slot": run.kind == .manual ? run.slotKey : shown(run.slotAt), "kind": run.kind.rawValue, "state": run.state,
            "badge": Badge.values(run.state),
            "node": run.holder ?? "—", "token": run.fencingToken, "takeovers": run.takeovers, "started": shown(run.startedAt),
            "lag": duration(run.startLag), "duration": duration(run.duration), "error": run.error ?? "", "missed": run.missedSlots,
        ]
        // Mustache sections treat any present value as true: leave absent values out.
        if let requestedBy = run.requestedBy { row["requestedBy"] = requestedBy }
        return row
    }
}
