import Foundation
import SteadfastJobs
import SteadfastPersistence
import SteadfastServices

/// Recurring billing as a scheduled job. Each slot runs once across the cluster, and each
/// step's effects are keyed in the database (service + period, invoice + reminder kind,
/// invoice for a late fee), so a slot run again after a takeover — or a manual run next to a
/// scheduled one — changes nothing twice.
enum BillingJobs {
    static let name = "billing"

    /// `billing`, on `jobs.billing.schedule`: renewal invoices, credit, late fees, reminders,
    /// suspensions and lifted suspensions, in that order (``RecurringBilling/runAll(now:)``), so
    /// credit is applied before anything is counted overdue. Every step acts "as of" the slot
    /// time and selects by date, so missed slots coalesce into one run that catches up on all
    /// of it; a step that fails stops the run, and the next slot retries it.
    static func definition(recurring: RecurringBilling, schedule: Schedule) -> JobDefinition {
        JobDefinition(name, schedule: schedule, timeout: .seconds(1800), catchUp: .runOnce) { context in
            let report = try await recurring.runAll(now: context.slot)
            let counts: [String: Int] = [
                "steadfast.billing.renewal_invoices": report.renewalInvoices, "steadfast.billing.credit_applications": report.creditApplications,
                "steadfast.billing.late_fees": report.lateFees, "steadfast.billing.reminders": report.reminders,
                "steadfast.billing.suspensions": report.suspensions, "steadfast.billing.unsuspensions": report.unsuspensions,
            ]
            if counts.values.contains(where: { $0 > 0 }) {
                context.logger.info("recurring billing made changes", metadata: counts.mapValues { "\($0)" })
            }
        }
    }

    static let captureName = "billing-capture"

    /// `billing-capture`, on `jobs.billing.schedule`: charges saved cards for invoices due within
    /// `billing.capture_days_before_due` and retries failures on `billing.capture_retry`
    /// (``AutomaticCapture``). Every write is fenced by the run's claim; each attempt is claimed
    /// in the database before Stripe is called, and an attempt a dead node left unfinished is
    /// settled from what Stripe reports for it, never charged blindly. Registered on every node;
    /// without the stripe gateway it does nothing.
    static func capture(_ capture: AutomaticCapture?, schedule: Schedule) -> JobDefinition {
        JobDefinition(captureName, schedule: schedule, timeout: .seconds(1800), catchUp: .runOnce) { context in
            guard let capture else { return }
            let report = try await capture.run(now: context.clock.now(), transactions: FencedCaptureTransactions(context: context))
            if report != AutomaticCapture.Report() {
                context.logger.info("automatic capture", metadata: [
                    "steadfast.capture.captured": "\(report.captured)", "steadfast.capture.failed": "\(report.failed)",
                    "steadfast.capture.resumed": "\(report.resumed)", "steadfast.capture.open": "\(report.open)",
                ])
            }
        }
    }
}

/// The capture job's writes, each checked against the run's fencing token.
struct FencedCaptureTransactions: CaptureTransactions {
    let context: JobContext

    func run<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await context.fencedTransaction(.default, body)
    }
}
