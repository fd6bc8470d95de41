import Metrics
import SteadfastDomain

/// The scheduler's metrics (through swift-metrics; a node exports them on `/metrics`):
///
/// | metric | type | labels | meaning |
/// | --- | --- | --- | --- |
/// | `steadfast_job_runs_total` | counter | job, outcome | runs this node finished: succeeded, failed, timed_out |
/// | `steadfast_job_failures_total` | counter | job | runs that failed or timed out |
/// | `steadfast_job_duration_seconds` | histogram | job | body run time |
/// | `steadfast_job_lag_seconds` | gauge | job | how long after its slot the latest scheduled run started here |
/// | `steadfast_job_takeovers_total` | counter | job | slots this node took over from a dead or departing holder |
/// | `steadfast_job_lost_total` | counter | job, reason | slots this node lost: lease_lost, lease_expired |
/// | `steadfast_job_fenced_total` | counter | job | writes or outcomes refused by the fencing token |
/// | `steadfast_job_skipped_slots_total` | counter | job | missed slots passed over by the catch-up policy |
struct JobMetrics: Sendable {
    func started(job: String, lag: Double?, takenOver: Bool) {
        if let lag { Gauge(label: "steadfast_job_lag_seconds", dimensions: [("job", job)]).record(lag) }
        if takenOver { Counter(label: "steadfast_job_takeovers_total", dimensions: [("job", job)]).increment() }
    }

    func finished(job: String, outcome: RunOutcome, duration: Duration) {
        Counter(label: "steadfast_job_runs_total", dimensions: [("job", job), ("outcome", outcome.state)]).increment()
        if outcome != .succeeded { Counter(label: "steadfast_job_failures_total", dimensions: [("job", job)]).increment() }
        Timer(label: "steadfast_job_duration_seconds", dimensions: [("job", job)]).recordSeconds(duration.totalSeconds)
    }

    func lost(job: String, reason: ClaimStateMachine.CancelReason) {
        let label = reason == .leaseExpired ? "lease_expired" : "lease_lost"
        Counter(label: "steadfast_job_lost_total", dimensions: [("job", job), ("reason", label)]).increment()
    }

    func fenced(job: String) {
        Counter(label: "steadfast_job_fenced_total", dimensions: [("job", job)]).increment()
    }

    func skipped(job: String, count: Int) {
        guard count > 0 else { return }
        Counter(label: "steadfast_job_skipped_slots_total", dimensions: [("job", job)]).increment(by: count)
    }
}
