import Foundation
import SteadfastJobs
import SteadfastDomain

/// Formats scheduler records for the admin page and the JSON API (times in UTC, ISO 8601).
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

    /// A row of the jobs table.
    static func row(_ job: JobSummary) -> [String: Any] {
        let last = job.lastRun
        return [
            "name": job.name, "schedule": job.schedule, "catchUp": job.catchUp, "timeout": duration(job.timeout),
            "lastSlot": last.map { $0.kind == .manual ? "manual, \(time($0.slotAt))" : time($0.slotAt) } ?? "never",
            "lastNode": last?.holder ?? "—", "lastDuration": duration(last?.duration), "lastState": last?.state ?? "—",
            "lastError": last?.error ?? "", "nextSlot": time(job.nextSlotAt), "publishedBy": job.publishedBy,
        ]
    }

    /// A row of a job's history table.
    static func row(_ run: JobRunRecord) -> [String: Any] {
        var row: [String: Any] = [
            "slot": run.kind == .manual ? run.slotKey : time(run.slotAt), "kind": run.kind.rawValue, "state": run.state,
            "node": run.holder ?? "—", "token": run.fencingToken, "takeovers": run.takeovers, "started": time(run.startedAt),
            "lag": duration(run.startLag), "duration": duration(run.duration), "error": run.error ?? "", "missed": run.missedSlots,
        ]
        // Mustache sections treat any present value as true: leave absent values out.
        if let requestedBy = run.requestedBy { row["requestedBy"] = requestedBy }
        return row
    }
}
