import Foundation
import SteadfastDomain

/// The provider's billing rules, from the node configuration (`billing.*` keys).
public struct BillingSettings: Sendable {
    /// The catalogue and default client currency.
    public var currency: Currency
    /// The zone in which "today" is decided for due dates and periods.
    public var timeZone: TimeZone
    public var taxTable: TaxTable
    /// Country given to clients who have not said where they are (`nil`: no tax until they do).
    public var defaultCountry: String?
    public var invoiceNumberFormat: InvoiceNumberFormat
    /// Days from issue to due date for order and staff invoices.
    public var invoiceDueDays: Int
    /// How many days before a service's due date its renewal invoice is generated.
    public var renewalLeadDays: Int
    public var lateFee: LateFeePolicy
    /// Days after the due date when the late fee is added.
    public var lateFeeAfterDays: Int
    /// Days after the due date on which overdue reminders are queued (one of each).
    public var reminderDays: [Int]
    /// Days after the due date when services are suspended; 0 never suspends.
    public var suspensionDays: Int
    /// Whether paying an order's invoice accepts the pending order (creating its services).
    public var acceptOrdersOnPayment: Bool
    /// The enabled payment gateways (`banktransfer`, `testcard`).
    public var gateways: Set<String>
    /// The HMAC-SHA256 key the test card provider signs its webhooks with.
    public var testCardSecret: String
    /// What clients paying by bank transfer are told.
    public var bankTransferInstructions: String
    /// `accounts.require_verified_email`: checkout needs the client's e-mail address confirmed.
    public var requireVerifiedEmail = false
    /// The seller printed on invoices (`company.*`); staff edits stored in the database win
    /// (`CompanyIdentityRepository`).
    public var company = InvoiceParty(name: "", address: "")
    /// How refunds to the payer and credit notes (refunds to the credit balance) are numbered;
    /// each has its own gap-free counter.
    public var refundNumberFormat = try! InvoiceNumberFormat("RF-{YYYY}-{SEQ:6}")
    public var creditNoteNumberFormat = try! InvoiceNumberFormat("CN-{YYYY}-{SEQ:6}")
    /// `billing.capture_days_before_due`: saved cards are charged for invoices due within this many days.
    public var captureDaysBeforeDue = 0
    /// `billing.capture_retry`: the delays before each retry of a failed automatic capture.
    public var captureRetry: [Duration] = [.seconds(86_400), .seconds(3 * 86_400), .seconds(5 * 86_400)]

    public init(
        currency: Currency = .usd, timeZone: TimeZone = TimeZone(identifier: "UTC")!, taxTable: TaxTable = .none, defaultCountry: String? = nil,
        invoiceNumberFormat: InvoiceNumberFormat = .standard, invoiceDueDays: Int = 7, renewalLeadDays: Int = 14, lateFee: LateFeePolicy = .none,
        lateFeeAfterDays: Int = 3, reminderDays: [Int] = [1, 7, 14], suspensionDays: Int = 14, acceptOrdersOnPayment: Bool = true,
        gateways: Set<String> = ["banktransfer"], testCardSecret: String = "", bankTransferInstructions: String = "Pay by bank transfer quoting the invoice number."
    ) {
        self.currency = currency
        self.timeZone = timeZone
        self.taxTable = taxTable
        self.defaultCountry = defaultCountry
        self.invoiceNumberFormat = invoiceNumberFormat
        self.invoiceDueDays = invoiceDueDays
        self.renewalLeadDays = renewalLeadDays
        self.lateFee = lateFee
        self.lateFeeAfterDays = lateFeeAfterDays
        self.reminderDays = reminderDays.sorted()
        self.suspensionDays = suspensionDays
        self.acceptOrdersOnPayment = acceptOrdersOnPayment
        self.gateways = gateways
        self.testCardSecret = testCardSecret
        self.bankTransferInstructions = bankTransferInstructions
    }

    /// The day `instant` falls on in the billing time zone.
    public func day(_ instant: Date) -> BillingDate {
        BillingDate(instant, in: timeZone)
    }

    /// The profile a client gets before they fill in their own details.
    func defaultProfile(clientID: UUID) -> BillingProfile {
        BillingProfile(clientID: clientID, country: defaultCountry, region: nil, taxExempt: false, currency: currency)
    }

    /// The invoice calculator for a client.
    func calculator(for profile: BillingProfile) -> InvoiceCalculator {
        InvoiceCalculator(rule: taxTable.rule(country: profile.country, region: profile.region, exempt: profile.taxExempt), mode: taxTable.mode)
    }
}
