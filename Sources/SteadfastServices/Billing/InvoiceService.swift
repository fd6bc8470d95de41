import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Reading invoices (clients see only their own) and staff work on them: drafts, lines,
/// issuing, cancelling, collections.
public struct InvoiceService: BillingService {
    /// A line staff add by hand.
    public struct LineInput: Sendable {
        public var description: String
        /// Net or gross per the tax mode, in the invoice currency.
        public var amount: Money
        public var taxable: Bool

        public init(description: String, amount: Money, taxable: Bool = true) {
            self.description = description
            self.amount = amount
            self.taxable = taxable
        }
    }

    public let dependencies: BillingDependencies

    public init(_ dependencies: BillingDependencies) {
        self.dependencies = dependencies
    }

    /// The invoice with its lines; with `clientID`, ``BillingErrorKind/notFound`` unless it is theirs.
    public func invoice(id: UUID, clientID: UUID?) async throws -> Invoice {
        guard let invoice = try await InvoiceRepository(database).find(id: id, clientID: clientID) else { throw BillingError.notFound("invoice") }
        return invoice
    }

    /// Invoices newest first. Clients never see staff drafts.
    public func invoices(clientID: UUID?, status: InvoiceStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0, includeDrafts: Bool = true) async throws -> [Invoice] {
        try await InvoiceRepository(database).list(clientID: clientID, status: status, includeDrafts: includeDrafts, sort: sort, limit: limit, offset: offset)
    }

    public func payments(invoiceID: UUID) async throws -> [Payment] {
        try await PaymentRepository(database).list(invoiceID: invoiceID, limit: 500)
    }

    /// The seller printed on invoices: staff edits (`settings` table), else `company.*` from the configuration.
    public func company() async throws -> InvoiceParty {
        try await CompanyIdentityRepository(database).load(defaults: settings.company)
    }

    /// Staff set the seller printed on invoices issued from now on (issued ones keep their copy).
    public func updateCompany(legalName: String?, address: String?, taxID: String?, bankDetails: String?) async throws -> InvoiceParty {
        let checked = try InvoiceParty.validate(name: legalName, address: address, taxID: taxID, fields: ("legal_name", "address", "tax_id"))
        guard let name = checked.name else { throw BillingError.invalid("the legal name is required", field: "legal_name") }
        let bank = bankDetails?.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\r\n", with: "\n")
        if let bank, bank.count > 500 { throw BillingError.invalid("bank details are limited to 500 characters", field: "bank_details") }
        var identity = settings.company
        identity.name = name
        identity.address = checked.address ?? ""
        identity.taxID = checked.taxID
        identity.bankDetails = (bank?.isEmpty ?? true) ? nil : bank
        let now = clock.now()
        let defaults = settings.company, changed = identity
        try await database.transaction { tx in
            let repository = CompanyIdentityRepository(tx)
            let before = try await repository.load(defaults: defaults)
            try await repository.save(changed, now: now)
            try await AuditTrail.record(tx, .companyUpdated, object: AuditObject(rawType: "company", id: nil), before: Self.auditFields(before), after: Self.auditFields(changed), now: now)
        }
        return try await company()
    }

    /// The seller identity's fields as the audit trail records them (`company.*`).
    static func auditFields(_ party: InvoiceParty) -> [String: String] {
        ["legal_name": party.name, "address": party.address, "tax_id": party.taxID ?? "", "bank_details": party.bankDetails ?? ""]
    }

    /// A staff draft for a client, with lines; numbered only when issued.
    public func createDraft(clientID: UUID, dueDate: BillingDate?, lines: [LineInput]) async throws -> Invoice {
        let settings = self.settings
        let now = clock.now()
        let id = UUID()
        guard try await AccountRepository(database: database).find(id: clientID)?.role == .client else {
            throw BillingError.invalid("there is no such client", field: "client_id")
        }
        try await database.transaction { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            let profile = try await ledger.lockClient(clientID)
            let calculator = settings.calculator(for: profile)
            let computed = try calculator.lines(try Self.drafts(lines, currency: profile.currency))
            let totals = try InvoiceCalculator.totals(computed, currency: profile.currency)
            let invoice = Invoice(
                id: id, clientID: clientID, number: nil, status: .draft, currency: profile.currency, issueDate: nil,
                dueDate: dueDate ?? ledger.today.adding(days: settings.invoiceDueDays), paidAt: nil, subtotal: totals.subtotal, tax: totals.tax,
                total: totals.total, amountPaid: .zero(profile.currency), taxName: calculator.rule?.name, taxRate: calculator.rule?.rate,
                taxMode: calculator.mode, orderID: nil, lines: computed, createdAt: now
            )
            try await ledger.invoices.insert(invoice, now: now)
            try await AuditTrail.record(
                tx, .invoiceCreated, object: AuditObject("invoice", id), after: Self.auditFields(invoice), amounts: ["total": invoice.total], account: clientID, now: now
            )
        }
        return try await invoice(id: id, clientID: nil)
    }

    /// Adds lines to a draft.
    public func addLines(invoiceID: UUID, _ lines: [LineInput]) async throws -> Invoice {
        try await change(invoiceID: invoiceID, audit: .invoiceLinesAdded) { ledger, invoice in
            guard invoice.status == .draft else { throw BillingError.conflict("lines can only be added to a draft", field: "status") }
            let rule = invoice.taxRate.map { TaxRule(country: "XX", name: invoice.taxName ?? "Tax", rate: $0) }
            let calculator = InvoiceCalculator(rule: rule, mode: invoice.taxMode)
            let position = try await ledger.invoices.nextPosition(invoiceID: invoice.id)
            let added = try calculator.lines(try Self.drafts(lines, currency: invoice.currency), firstPosition: position)
            try await ledger.invoices.insert(lines: added, invoiceID: invoice.id)
            invoice.lines += added
            let totals = try InvoiceCalculator.totals(invoice.lines, currency: invoice.currency)
            invoice.subtotal = totals.subtotal
            invoice.tax = totals.tax
            invoice.total = totals.total
            try await ledger.invoices.save(invoice, now: ledger.now)
        }
    }

    /// Issues a draft: it gets the next number and becomes payable.
    public func issue(invoiceID: UUID) async throws -> Invoice {
        try await change(invoiceID: invoiceID, audit: .invoiceIssued) { ledger, invoice in
            try await ledger.issue(&invoice)
            try await ledger.invoices.save(invoice, now: ledger.now)
            try await ledger.settleIfZero(&invoice)
        }
    }

    /// Cancels a draft or unpaid invoice (its number stays used). Paid money must be refunded first.
    public func cancel(invoiceID: UUID) async throws -> Invoice {
        try await change(invoiceID: invoiceID, audit: .invoiceCancelled) { ledger, invoice in
            // A renewal invoice's period is billed again by the next run (BillingLedger.cancel).
            try await ledger.cancel(&invoice)
        }
    }

    /// Hands an unpaid invoice to collections (it stays payable).
    public func sendToCollections(invoiceID: UUID) async throws -> Invoice {
        try await change(invoiceID: invoiceID, audit: .invoiceSentToCollections) { ledger, invoice in
            try invoice.status.apply(.sendToCollections)
            try await ledger.invoices.save(invoice, now: ledger.now)
        }
    }

    private func change(invoiceID: UUID, audit: AuditAction, _ action: @escaping @Sendable (BillingLedger, inout Invoice) async throws -> Void) async throws -> Invoice {
        let settings = self.settings
        let now = clock.now()
        guard let clientID = try await InvoiceRepository(database).find(id: invoiceID)?.clientID else { throw BillingError.notFound("invoice") }
        try await database.transaction { tx in
            let ledger = BillingLedger(tx: tx, settings: settings, now: now)
            _ = try await ledger.lockClient(clientID)
            guard var invoice = try await ledger.invoices.find(id: invoiceID, lock: true) else { throw BillingError.notFound("invoice") }
            let before = invoice
            try await action(ledger, &invoice)
            try await AuditTrail.record(
                tx, audit, object: AuditObject("invoice", invoiceID), before: Self.auditFields(before), after: Self.auditFields(invoice),
                amounts: ["total": invoice.total], account: clientID, now: now
            )
        }
        return try await invoice(id: invoiceID, clientID: nil)
    }

    /// What the audit trail records of an invoice's state.
    static func auditFields(_ invoice: Invoice) -> [String: String] {
        [
            "status": invoice.status.rawValue, "number": invoice.number ?? "", "lines": String(invoice.lines.count),
            "total_minor_units": String(invoice.total.minorUnits),
        ]
    }

    static func drafts(_ lines: [LineInput], currency: Currency) throws(BillingError) -> [InvoiceLineDraft] {
        guard !lines.isEmpty else { throw BillingError.invalid("add at least one line", field: "lines") }
        guard lines.count <= 200 else { throw BillingError.invalid("at most 200 lines", field: "lines") }
        return try lines.map { line throws(BillingError) in
            let description = line.description.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !description.isEmpty, description.count <= 500 else { throw BillingError.invalid("each line needs a description of 1-500 characters", field: "lines") }
            guard line.amount.currency == currency else { throw BillingError(.currencyMismatch, "lines must be in \(currency.code)", field: "lines") }
            guard !line.amount.isNegative else { throw BillingError.invalid("line amounts cannot be negative (use credit instead)", field: "lines") }
            _ = try line.amount.checkedInput(field: "lines")
            return InvoiceLineDraft(kind: .custom, description: description, price: line.amount, taxable: line.taxable)
        }
    }

}
