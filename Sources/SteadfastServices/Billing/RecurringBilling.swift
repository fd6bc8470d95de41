import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Recurring billing as plain functions over a clock, for the scheduler to call — on any node,
/// as often as it likes, on several nodes at once.
///
/// Each effect is claimed by a unique key in the same transaction that makes it
/// (service + period for renewals, invoice + kind for reminders, invoice for late fees), or
/// is a conditional state change (suspension), so running a function twice — or on two
/// nodes at the same moment — changes nothing the second time.
///
/// | function | does |
/// | --- | --- |
/// | ``generateRenewalInvoices(now:)`` | issues the invoice for each billable service's next period, `billing.renewal_lead_days` before it starts, and pays it from credit when the client has some |
/// | ``applyCreditBalances(now:)`` | pays open invoices from clients' credit balances |
/// | ``applyLateFees(now:)`` | bills `billing.late_fee` once, on a separate invoice, for each invoice `billing.late_fee_after_days` overdue |
/// | ``queueOverdueReminders(now:)`` | queues one reminder per `billing.reminder_days` step (the `invoice_reminders` outbox) |
/// | ``suspendOverdueServices(now:)`` | suspends active services with an invoice `billing.suspension_days` overdue |
/// | ``unsuspendPaidServices(now:)`` | lifts overdue suspensions once nothing is overdue (payments also do this at once) |
/// | ``runAll(now:)`` | all of the above, in that order |
public struct RecurringBilling: BillingService {
    /// What a run did (counts of effects made by this call; zero for effects another run made).
    public struct Report: Sendable, Equatable, Codable {
        public var renewalInvoices = 0
        public var creditApplications = 0
        public var lateFees = 0
        public var reminders = 0
        public var suspensions = 0
        public var unsuspensions = 0

        enum CodingKeys: String, CodingKey {
            case renewalInvoices = "renewal_invoices"
            case creditApplications = "credit_applications"
            case lateFees = "late_fees"
            case reminders, suspensions, unsuspensions
        }

        public init() {}
    }

    public let dependencies: BillingDependencies

    public init(_ dependencies: BillingDependencies) {
        self.dependencies = dependencies
    }

    /// How many candidates are read per query.
    static let batchSize = 200

    /// Some candidates of a step could not be processed (e.g. an amount that would overflow);
    /// every other candidate was. `done` counts the effects made.
    public struct CandidateFailures: Error, Sendable, CustomStringConvertible {
        public let done: Int
        public let failures: [String]
        public var description: String { "\(failures.count) item(s) could not be billed: \(failures.prefix(5).joined(separator: "; "))" }
    }

    /// Runs every recurring-billing step for `now` (default: the clock's now). A candidate that
    /// fails for a billing reason stops neither its step nor the steps after it: everything else
    /// is done, then one error lists what failed (so the job's history shows it).
    public func runAll(now: Date? = nil) async throws -> Report {
        let now = now ?? clock.now()
        var report = Report()
        var failures: [String] = []
        func step(_ run: () async throws -> Int) async throws -> Int {
            do { return try await run() } catch let failed as CandidateFailures {
                failures += failed.failures
                return failed.done
            }
        }
        report.renewalInvoices = try await step { try await generateRenewalInvoices(now: now) }
        report.creditApplications = try await step { try await applyCreditBalances(now: now) }
        report.lateFees = try await step { try await applyLateFees(now: now) }
        report.reminders = try await step { try await queueOverdueReminders(now: now) }
        _ = try await drainReminders(now: now)
        report.suspensions = try await step { try await suspendOverdueServices(now: now) }
        report.unsuspensions = try await step { try await unsuspendPaidServices(now: now) }
        if !failures.isEmpty {
            throw BillingError.conflict("billing ran for everything else, but \(failures.count) item(s) failed: \(failures.prefix(5).joined(separator: "; "))")
        }
        return report
    }

    /// The steps staff may run by hand (`POST /api/v1/admin/billing/run` `{task}`).
    public static let manualTasks = ["all", "renewals", "credit", "late_fees", "reminders", "suspensions", "unsuspensions"]

    /// Staff run billing by hand: `task` (one of ``manualTasks``) now. Each effect records its own
    /// event as the member of staff's doing; the run itself records one `billing.run` event with
    /// what it did, so a run that found nothing to do is on record too.
    public func runByHand(task: String, now: Date? = nil) async throws -> Report {
        let now = now ?? clock.now()
        var report = Report()
        switch task {
        case "all": report = try await runAll(now: now)
        case "renewals": report.renewalInvoices = try await generateRenewalInvoices(now: now)
        case "credit": report.creditApplications = try await applyCreditBalances(now: now)
        case "late_fees": report.lateFees = try await applyLateFees(now: now)
        case "reminders": report.reminders = try await queueOverdueReminders(now: now)
        case "suspensions": report.suspensions = try await suspendOverdueServices(now: now)
        case "unsuspensions": report.unsuspensions = try await unsuspendPaidServices(now: now)
        default: throw BillingError.invalid("task must be \(Self.manualTasks.dropLast().joined(separator: ", ")) or unsuspensions", field: "task")
        }
        let done = report
        try await database.transaction { tx in
            try await AuditTrail.record(tx, .billingRunStarted, object: AuditObject(rawType: "billing_run", id: nil), after: [
                "task": task, "renewal_invoices": String(done.renewalInvoices), "credit_applications": String(done.creditApplications),
                "late_fees": String(done.lateFees), "reminders": String(done.reminders), "suspensions": String(done.suspensions), "unsuspensions": String(done.unsuspensions),
            ], now: now)
        }
        return report
    }

    // MARK: Renewals

    /// Issues renewal invoices for periods starting within `billing.renewal_lead_days` of today.
    public func generateRenewalInvoices(now: Date) async throws -> Int {
        let through = settings.day(now).adding(days: settings.renewalLeadDays)
        return try await forEachCandidate(
            { try await ServiceRepository(database).dueForRenewal(through: through, limit: Self.batchSize) },
            id: \.id
        ) { service in try await renew(service, through: through, now: now) }
    }

    private func renew(_ candidate: ClientService, through: BillingDate, now: Date) async throws -> Bool {
        let settings = self.settings
        return try await database.transaction { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            let profile = try await ledger.lockClient(candidate.clientID)
            guard let service = try await ledger.services.find(id: candidate.id, lock: true), service.status.isBillable,
                  let start = service.nextDueDate, start <= through,
                  let end = service.cycle.nextDueDate(after: start, anchorDay: service.anchorDay)
            else { return false }
            let invoiceID = UUID()
            guard try await BillingEffectRepository(tx).claimRenewal(serviceID: service.id, periodStart: start, invoiceID: invoiceID, now: now) else {
                return false
            }
            let taxable = try await CatalogueRepository(tx).product(id: service.productID)?.taxable ?? true
            let calculator = settings.calculator(for: profile)
            let lines = try calculator.lines([InvoiceLineDraft(
                kind: .renewal, description: "\(service.description) — \(service.cycle.label) \(start.iso) to \(end.adding(days: -1).iso)",
                serviceID: service.id, price: service.recurring, taxable: taxable, periodStart: start, periodEnd: end
            )])
            let totals = try InvoiceCalculator.totals(lines, currency: service.recurring.currency)
            var invoice = Invoice(
                id: invoiceID, clientID: service.clientID, number: nil, status: .draft, currency: service.recurring.currency, issueDate: nil,
                dueDate: start, paidAt: nil, subtotal: totals.subtotal, tax: totals.tax, total: totals.total, amountPaid: .zero(service.recurring.currency),
                taxName: calculator.rule?.name, taxRate: calculator.rule?.rate, taxMode: calculator.mode, orderID: nil, lines: lines, createdAt: now
            )
            try await ledger.issue(&invoice)
            try await ledger.invoices.insert(invoice, now: now)
            try await ledger.settleIfZero(&invoice)
            let credited = try await ledger.applyCredit(to: invoice)
            // One event for the renewal, with what credit paid of it (the run's job is the actor).
            try await AuditTrail.record(
                tx, .invoiceRenewalIssued, object: AuditObject("invoice", invoice.id),
                after: ["number": invoice.number ?? "", "service_id": service.id.uuidString.lowercased(), "period_start": start.iso, "status": (credited?.invoice ?? invoice).status.rawValue],
                amounts: ["total": invoice.total, "paid_from_credit": credited?.payment.amount ?? .zero(invoice.currency)], account: service.clientID, now: now
            )
            return true
        }
    }

    // MARK: Credit

    /// Pays open invoices from clients' credit balances, oldest due first.
    public func applyCreditBalances(now: Date) async throws -> Int {
        let settings = self.settings
        return try await forEachCandidate(
            { try await InvoiceRepository(database).payableWithClientCredit(limit: Self.batchSize) },
            id: \.id
        ) { candidate in
            try await database.transaction { tx in
                let ledger = BillingLedger(tx: tx, settings: settings, now: now)
                _ = try await ledger.lockClient(candidate.clientID)
                guard let invoice = try await ledger.invoices.find(id: candidate.id, lock: true),
                      let applied = try await ledger.applyCredit(to: invoice)
                else { return false }
                try await AuditTrail.record(
                    tx, .creditAutoApplied, object: AuditObject("invoice", invoice.id), before: ["status": invoice.status.rawValue],
                    after: ["status": applied.invoice.status.rawValue], amounts: ["amount": applied.payment.amount], account: invoice.clientID, now: now
                )
                return true
            }
        }
    }

    // MARK: Late fees and reminders

    /// Bills the late fee once for each invoice at least `billing.late_fee_after_days` overdue, on
    /// a separate issued invoice (due `billing.invoice_due_days` later; no late fee of its own).
    public func applyLateFees(now: Date) async throws -> Int {
        if case .none = settings.lateFee { return 0 }
        let settings = self.settings
        let cutoff = settings.day(now).adding(days: -settings.lateFeeAfterDays)
        return try await forEachCandidate(
            { try await InvoiceRepository(database).payableWithoutLateFee(dueOnOrBefore: cutoff, limit: Self.batchSize) },
            id: \.id
        ) { candidate in
            try await database.transaction { tx in
                let ledger = BillingLedger(tx: tx, settings: settings, now: now)
                _ = try await ledger.lockClient(candidate.clientID)
                guard let invoice = try await ledger.invoices.find(id: candidate.id, lock: true), invoice.status.isPayable, invoice.dueDate <= cutoff else {
                    return false
                }
                let fee = try settings.lateFee.fee(for: invoice.total).checkedInput(field: "late_fee")
                let effects = BillingEffectRepository(tx)
                guard fee.isPositive, try await effects.claimLateFee(invoiceID: invoice.id, amount: fee, now: now) else { return false }
                // The fee is billed on an invoice of its own: an issued invoice's total never changes.
                let lines = try InvoiceCalculator(rule: nil, mode: invoice.taxMode).lines([InvoiceLineDraft(
                    kind: .lateFee, description: "Late payment fee for invoice \(invoice.number ?? "") (due \(invoice.dueDate.iso))", price: fee, taxable: false
                )])
                var feeInvoice = Invoice(
                    id: UUID(), clientID: invoice.clientID, number: nil, status: .draft, currency: invoice.currency, issueDate: nil,
                    dueDate: ledger.today.adding(days: settings.invoiceDueDays), paidAt: nil, subtotal: fee, tax: .zero(invoice.currency), total: fee,
                    amountPaid: .zero(invoice.currency), taxName: nil, taxRate: nil, taxMode: invoice.taxMode, orderID: nil, lines: lines, createdAt: now
                )
                try await ledger.issue(&feeInvoice)
                try await ledger.invoices.insert(feeInvoice, now: now)
                try await effects.setLateFeeInvoice(invoiceID: invoice.id, feeInvoiceID: feeInvoice.id)
                try await AuditTrail.record(
                    tx, .invoiceLateFeeIssued, object: AuditObject("invoice", feeInvoice.id),
                    after: ["number": feeInvoice.number ?? "", "overdue_invoice_id": invoice.id.uuidString.lowercased()], amounts: ["fee": fee], account: invoice.clientID, now: now
                )
                return true
            }
        }
    }

    /// Queues overdue reminders: an invoice `d` days overdue gets the reminder `overdue_<d>` for
    /// the largest step `d` of `billing.reminder_days` it has reached, once.
    public func queueOverdueReminders(now: Date) async throws -> Int {
        let today = settings.day(now)
        let steps = settings.reminderDays.filter { $0 >= 0 }.sorted()
        var total = 0
        for (index, days) in steps.enumerated() {
            let kind = "overdue_\(days)"
            let dueOnOrBefore = today.adding(days: -days)
            let dueAfter = index + 1 < steps.count ? today.adding(days: -steps[index + 1]) : nil
            total += try await forEachCandidate(
                { try await InvoiceRepository(database).payableMissingReminder(kind: kind, dueOnOrBefore: dueOnOrBefore, dueAfter: dueAfter, limit: Self.batchSize) },
                id: \.id
            ) { invoice in
                // The claim, its mail and the hand-over to the outbox (delivered_at) commit together.
                try await database.transaction { tx in
                    let effects = BillingEffectRepository(tx)
                    guard try await effects.claimReminder(invoiceID: invoice.id, kind: kind, now: now) else { return false }
                    try await BillingMail(tx: tx, now: now).invoiceOverdue(invoice, kind: kind, daysOverdue: invoice.dueDate.days(until: today))
                    _ = try await effects.markDelivered(invoiceID: invoice.id, kind: kind, now: now)
                    try await AuditTrail.record(
                        tx, .invoiceReminderQueued, object: AuditObject("invoice", invoice.id), after: ["reminder": kind], amounts: ["balance_due": invoice.balanceDue],
                        account: invoice.clientID, now: now
                    )
                    return true
                }
            }
        }
        return total
    }

    /// Hands reminders claimed but not yet in the e-mail outbox (`delivered_at` empty, e.g. from
    /// before mail existed) to the outbox: each one's mail and its `delivered_at` in one
    /// transaction, under the reminder's dedupe key. Returns how many it handed over.
    public func drainReminders(now: Date) async throws -> Int {
        let today = settings.day(now)
        var total = 0
        while true {
            let batch = try await BillingEffectRepository(database).undeliveredReminders(limit: Self.batchSize)
            if batch.isEmpty { return total }
            for reminder in batch {
                try await database.transaction { tx in
                    let effects = BillingEffectRepository(tx)
                    guard try await effects.markDelivered(invoiceID: reminder.invoiceID, kind: reminder.kind, now: now),
                          let invoice = try await InvoiceRepository(tx).find(id: reminder.invoiceID, lock: false)
                    else { return }
                    // An invoice paid or cancelled since is not reminded of.
                    guard invoice.status.isPayable else { return }
                    try await BillingMail(tx: tx, now: now).invoiceOverdue(invoice, kind: reminder.kind, daysOverdue: invoice.dueDate.days(until: today))
                }
                total += 1
            }
        }
    }

    // MARK: Suspension

    /// Suspends active services with an invoice at least `billing.suspension_days` overdue.
    public func suspendOverdueServices(now: Date) async throws -> Int {
        guard settings.suspensionDays > 0 else { return 0 }
        let settings = self.settings
        let cutoff = settings.day(now).adding(days: -settings.suspensionDays)
        return try await forEachCandidate(
            { try await ServiceRepository(database).activeWithOverdueInvoices(dueOnOrBefore: cutoff, limit: Self.batchSize) },
            id: \.id
        ) { candidate in
            try await database.transaction { tx in
                let ledger = BillingLedger(tx: tx, settings: settings, now: now)
                _ = try await ledger.lockClient(candidate.clientID)
                guard let service = try await ledger.services.find(id: candidate.id, lock: true), service.status == .active,
                      try await ledger.services.hasOverdueInvoices(serviceID: service.id, dueOnOrBefore: cutoff)
                else { return false }
                let suspended = try await ledger.services.transition(id: service.id, from: .active, to: try service.status.next(on: .suspend), reason: .overdue, now: now)
                if suspended {
                    try await BillingMail(tx: tx, now: now).serviceSuspended(service, reason: "overdue")
                    try await AuditTrail.record(
                        tx, .serviceSuspendedOverdue, object: AuditObject("service", service.id), before: ["status": service.status.rawValue],
                        after: ["status": ServiceStatus.suspended.rawValue, "reason": "overdue"], account: service.clientID, now: now
                    )
                }
                return suspended
            }
        }
    }

    /// Lifts overdue suspensions of services that have nothing overdue any more.
    public func unsuspendPaidServices(now: Date) async throws -> Int {
        let settings = self.settings
        let candidates = try await ServiceRepository(database).suspendedForOverdue(limit: 10_000)
        var count = 0
        for candidate in candidates {
            let lifted = try await database.transaction { tx in
                let ledger = BillingLedger(tx: tx, settings: settings, now: now)
                _ = try await ledger.lockClient(candidate.clientID)
                // Lifted by a payment since the candidates were read: not this run's change.
                guard try await ledger.services.find(id: candidate.id, lock: true)?.status == .suspended else { return false }
                try await ledger.unsuspendIfSettled(serviceID: candidate.id)
                guard try await ledger.services.find(id: candidate.id)?.status == .active else { return false }
                try await AuditTrail.record(
                    tx, .serviceUnsuspended, object: AuditObject("service", candidate.id), before: ["status": ServiceStatus.suspended.rawValue],
                    after: ["status": ServiceStatus.active.rawValue], account: candidate.clientID, now: now
                )
                return true
            }
            if lifted { count += 1 }
        }
        return count
    }

    /// Runs `work` on every candidate `fetch` returns, fetching again until nothing new comes
    /// back (each effect removes its candidate from the next fetch); returns how many did work.
    ///
    /// A candidate whose work fails for a billing reason (its transaction rolled back, so it
    /// stays a candidate) is skipped for the rest of this run, so one bad record cannot stop
    /// billing for every other client; ``CandidateFailures`` reports it at the end. Any other
    /// error (the database is down) stops the step at once.
    private func forEachCandidate<T: Sendable>(
        _ fetch: () async throws -> [T], id: KeyPath<T, UUID>, _ work: (T) async throws -> Bool
    ) async throws -> Int {
        var seen = Set<UUID>()
        var count = 0
        var failures: [String] = []
        while true {
            let fresh = try await fetch().filter { !seen.contains($0[keyPath: id]) }
            if fresh.isEmpty { break }
            for candidate in fresh {
                seen.insert(candidate[keyPath: id])
                do {
                    if try await work(candidate) { count += 1 }
                } catch let error as BillingError {
                    failures.append("\(candidate[keyPath: id].uuidString.lowercased()): \(error.message)")
                }
            }
        }
        guard failures.isEmpty else { throw CandidateFailures(done: count, failures: failures) }
        return count
    }
}
