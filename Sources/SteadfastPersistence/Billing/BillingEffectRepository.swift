import Foundation
import SteadfastDomain

/// The claim tickets of recurring billing: each effect (a renewal invoice for a service's
/// period, a reminder of a kind for an invoice, a late fee on an invoice) is claimed by
/// inserting its key; a primary key makes the claim succeed once, however many nodes try.
/// A claim is written in the same transaction as its effect, so a failed effect frees it.
public struct BillingEffectRepository: Sendable {
    /// An overdue reminder waiting for (or done by) the mailer.
    public struct Reminder: Sendable, Hashable {
        public let invoiceID: UUID
        public let kind: String
        public let createdAt: Date
        public let deliveredAt: Date?
    }

    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// Claims the renewal of `serviceID` for the period starting `periodStart`.
    public func claimRenewal(serviceID: UUID, periodStart: BillingDate, invoiceID: UUID, now: Date) async throws -> Bool {
        !(try await db.query("""
            INSERT INTO service_renewals (service_id, period_start, invoice_id, created_at)
            VALUES (\(serviceID), \(periodStart.iso), \(invoiceID), \(now))
            ON CONFLICT (service_id, period_start) DO NOTHING RETURNING service_id
            """)).isEmpty
    }

    /// The renewal invoice of a service's period, if one was generated.
    public func renewalInvoice(serviceID: UUID, periodStart: BillingDate) async throws -> UUID? {
        try await db.first("""
            SELECT invoice_id FROM service_renewals WHERE service_id = \(serviceID) AND period_start = \(periodStart.iso)
            """).map { try $0.uuid("invoice_id") }
    }

    public func renewalCount() async throws -> Int {
        Int(try await db.first("SELECT COUNT(*) AS n FROM service_renewals")?.int("n") ?? 0)
    }

    /// Claims the reminder `kind` for an invoice.
    public func claimReminder(invoiceID: UUID, kind: String, now: Date) async throws -> Bool {
        !(try await db.query("""
            INSERT INTO invoice_reminders (invoice_id, kind, created_at) VALUES (\(invoiceID), \(kind), \(now))
            ON CONFLICT (invoice_id, kind) DO NOTHING RETURNING invoice_id
            """)).isEmpty
    }

    public func reminders(invoiceID: UUID) async throws -> [Reminder] {
        try await db.query("SELECT * FROM invoice_reminders WHERE invoice_id = \(invoiceID) ORDER BY created_at, kind").map(Self.reminder)
    }

    /// Reminders not yet delivered, oldest first: the mailer's outbox.
    public func undeliveredReminders(limit: Int) async throws -> [Reminder] {
        try await db.query("SELECT * FROM invoice_reminders WHERE delivered_at IS NULL ORDER BY created_at LIMIT \(limit)").map(Self.reminder)
    }

    /// Marks a reminder delivered; `false` if it already was.
    public func markDelivered(invoiceID: UUID, kind: String, now: Date) async throws -> Bool {
        !(try await db.query("""
            UPDATE invoice_reminders SET delivered_at = \(now) WHERE invoice_id = \(invoiceID) AND kind = \(kind) AND delivered_at IS NULL
            RETURNING invoice_id
            """)).isEmpty
    }

    /// Claims the late fee of an invoice.
    public func claimLateFee(invoiceID: UUID, amount: Money, now: Date) async throws -> Bool {
        !(try await db.query("""
            INSERT INTO invoice_late_fees (invoice_id, amount, created_at) VALUES (\(invoiceID), \(amount.minorUnits), \(now))
            ON CONFLICT (invoice_id) DO NOTHING RETURNING invoice_id
            """)).isEmpty
    }

    /// Records the separate invoice a claimed late fee is billed on.
    public func setLateFeeInvoice(invoiceID: UUID, feeInvoiceID: UUID) async throws {
        try await db.query("UPDATE invoice_late_fees SET fee_invoice_id = \(feeInvoiceID) WHERE invoice_id = \(invoiceID)")
    }

    /// The invoice a late fee for `invoiceID` is billed on (nil: none, or a fee from before separate fee invoices).
    public func lateFeeInvoice(invoiceID: UUID) async throws -> UUID? {
        try await db.first("SELECT fee_invoice_id FROM invoice_late_fees WHERE invoice_id = \(invoiceID)")?.optionalUUID("fee_invoice_id")
    }

    /// Gives up the renewal claim of `invoiceID` (its invoice was cancelled), so the period is billed again.
    @discardableResult
    public func releaseRenewal(invoiceID: UUID) async throws -> Bool {
        !(try await db.query("DELETE FROM service_renewals WHERE invoice_id = \(invoiceID) RETURNING service_id")).isEmpty
    }

    public func hasLateFee(invoiceID: UUID) async throws -> Bool {
        try await db.first("SELECT 1 AS found FROM invoice_late_fees WHERE invoice_id = \(invoiceID)") != nil
    }

    static func reminder(_ row: SQLRow) throws -> Reminder {
        Reminder(invoiceID: try row.uuid("invoice_id"), kind: try row.string("kind"), createdAt: try row.date("created_at"), deliveredAt: try row.optionalDate("delivered_at"))
    }
}
