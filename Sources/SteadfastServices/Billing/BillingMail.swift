import Foundation
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// The billing events' mail (docs/mail.md), queued in the e-mail outbox inside the transaction
/// that makes the event, each under a dedupe key of the event, so a retried or repeated
/// transaction queues its mail once. Invoice issued, payment received and overdue reminders carry
/// the invoice's PDF: the row asks for it, the delivery makes it when it sends (docs/billing.md).
struct BillingMail: Sendable {
    let tx: any SQLExecutor
    let now: Date
    let outbox = MailOutbox()

    func invoiceIssued(_ invoice: Invoice) async throws {
        try await outbox.enqueue(tx, .invoiceIssued, toAccount: invoice.clientID, values: [
            "invoice_number": invoice.number ?? "", "amount": invoice.total.formatted, "due_date": invoice.dueDate.iso,
            "invoice_url": Self.invoicePath(invoice.id),
        ], dedupeKey: "invoice_issued:\(invoice.id.uuidString.lowercased())", attachment: .invoicePDF(invoice.id), now: now)
    }

    func paymentReceived(_ payment: Payment, invoice: Invoice) async throws {
        try await outbox.enqueue(tx, .paymentReceived, toAccount: invoice.clientID, values: [
            "invoice_number": invoice.number ?? "", "amount": payment.amount.formatted, "gateway": payment.gateway,
            "balance_due": invoice.balanceDue.formatted,
        ], dedupeKey: "payment_received:\(payment.id.uuidString.lowercased())", attachment: .invoicePDF(invoice.id), now: now)
    }

    /// An automatic capture of the saved card failed (once per invoice and attempt).
    func captureFailed(invoice: Invoice, attempt: Int, amount: Money, card: String, reason: String, nextAttempt: BillingDate?) async throws {
        var values = [
            "invoice_number": invoice.number ?? "", "amount": amount.formatted, "card": card, "reason": reason, "invoice_url": Self.invoicePath(invoice.id),
        ]
        if let nextAttempt { values["next_attempt"] = nextAttempt.iso }
        try await outbox.enqueue(tx, .paymentFailed, toAccount: invoice.clientID, values: values, dedupeKey: "capture_failed:\(invoice.id.uuidString.lowercased()):\(attempt)", now: now)
    }

    func refundIssued(_ refund: Payment, invoice: Invoice, toCredit: Bool) async throws {
        var values = ["invoice_number": invoice.number ?? "", "amount": refund.amount.formatted]
        if toCredit { values["to_credit"] = "yes" }
        try await outbox.enqueue(tx, .refundIssued, toAccount: invoice.clientID, values: values, dedupeKey: "refund_issued:\(refund.id.uuidString.lowercased())", now: now)
    }

    /// The reminder `kind` (`overdue_<d>`) of an invoice; `daysOverdue` as of `now`.
    func invoiceOverdue(_ invoice: Invoice, kind: String, daysOverdue: Int) async throws {
        try await outbox.enqueue(tx, .invoiceOverdue, toAccount: invoice.clientID, values: [
            "invoice_number": invoice.number ?? "", "due_date": invoice.dueDate.iso, "days_overdue": "\(daysOverdue)",
            "balance_due": invoice.balanceDue.formatted, "invoice_url": Self.invoicePath(invoice.id),
        ], dedupeKey: "invoice_overdue:\(invoice.id.uuidString.lowercased()):\(kind)", attachment: .invoicePDF(invoice.id), now: now)
    }

    func serviceSuspended(_ service: ClientService, reason: String) async throws {
        try await outbox.enqueue(tx, .serviceSuspended, toAccount: service.clientID, values: [
            "service_name": service.description, "reason": reason,
        ], dedupeKey: "service_suspended:\(service.id.uuidString.lowercased()):\(Int64(now.timeIntervalSince1970 * 1000))", now: now)
    }

    static func invoicePath(_ id: UUID) -> String { "/clientarea/invoices/\(id.uuidString.lowercased())" }
}
