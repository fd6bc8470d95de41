import Foundation
import SteadfastDomain
import Synchronization

/// Everything the load saw, shared by the visitors: the request records, what the cluster
/// acknowledged (payments, invoices, uploads) and when to stop. Times are seconds since
/// ``origin``.
public final class LoadLedger: Sendable {
    struct State {
        var records: [RequestRecord] = []
        var payments: [AuditInput.AcknowledgedPayment] = []
        var paidInvoices: Set<String> = []
        var invoices: [AuditInput.InvoiceNumber] = []
        var uploads: [String: AuditInput.Upload] = [:]
        var stopping = false
        var newcomersLeft = 0
        var completed = 0
    }

    public let origin: ContinuousClock.Instant
    private let state: Mutex<State>

    public init(origin: ContinuousClock.Instant = .now, newcomers: Int = 0) {
        self.origin = origin
        var initial = State()
        initial.newcomersLeft = newcomers
        state = Mutex(initial)
    }

    /// Seconds since the load began.
    public func elapsed(_ instant: ContinuousClock.Instant = .now) -> Double {
        origin.duration(to: instant).totalSeconds
    }

    func record(_ record: RequestRecord) {
        state.withLock {
            $0.records.append(record)
            $0.completed += 1
        }
    }

    func acknowledgePayment(paymentID: String, invoiceID: String) {
        state.withLock { $0.payments.append(.init(paymentID: paymentID, invoiceID: invoiceID)) }
    }

    func attemptPayment(invoiceID: String) {
        _ = state.withLock { $0.paidInvoices.insert(invoiceID) }
    }

    func acknowledgeInvoice(id: String, number: String?) {
        state.withLock { $0.invoices.append(.init(invoiceID: id, number: number)) }
    }

    func attemptUpload(_ upload: AuditInput.Upload) {
        state.withLock { $0.uploads[upload.filename] = upload }
    }

    func acknowledgeUpload(filename: String, id: String) {
        state.withLock { $0.uploads[filename]?.acknowledgedID = id }
    }

    /// Takes one newcomer (a fresh registration) from the budget, if any is left.
    func takeNewcomer() -> Bool {
        state.withLock {
            guard $0.newcomersLeft > 0 else { return false }
            $0.newcomersLeft -= 1
            return true
        }
    }

    /// Visitors finish the request they are in and stop.
    public func stop() { state.withLock { $0.stopping = true } }
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Requests finished so far and how many failed (for the progress line).
    public var progress: (requests: Int, failed: Int) {
        state.withLock { ($0.completed, $0.records.count(where: \.failed)) }
    }

    public var records: [RequestRecord] { state.withLock { $0.records } }

    /// The acknowledged side of the audit.
    public func auditInput() -> AuditInput {
        state.withLock {
            var input = AuditInput()
            input.acknowledgedPayments = $0.payments
            input.attemptedPaymentInvoices = $0.paidInvoices
            input.acknowledgedInvoices = $0.invoices
            input.uploads = $0.uploads.values.sorted { $0.filename < $1.filename }
            return input
        }
    }
}
