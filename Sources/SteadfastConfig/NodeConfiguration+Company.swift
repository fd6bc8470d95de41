import Foundation

extension ConfigKey {
    public static let companyLegalName = ConfigKey("company.legal_name", default: "", "The seller's legal name printed on invoices; staff may change it on /admin/company (stored in the database, which then wins). Empty: the invoice shows no seller name until set.")
    public static let companyAddress = ConfigKey("company.address", default: "", "The seller's postal address on invoices (\\n separates lines); editable by staff like company.legal_name.")
    public static let companyTaxID = ConfigKey("company.tax_id", default: "", "The seller's VAT or other tax id on invoices; editable by staff.")
    public static let companyBankDetails = ConfigKey("company.bank_details", default: "", "Where to pay, printed on invoices (IBAN, BIC, bank; \\n separates lines); editable by staff.")
    public static let billingPDFRenderer = ConfigKey("billing.pdf_renderer", default: "chromium", "The headless Chromium that prints invoice PDFs (a command name looked up in PATH, or a path); Debian package chromium.")
    public static let billingPDFTimeout = ConfigKey("billing.pdf_timeout", default: "30s", "How long one invoice PDF may take; the renderer is killed after it and the request answers 503.")
    public static let billingPDFConcurrency = ConfigKey("billing.pdf_concurrency", default: "2", "At most this many invoice PDFs rendered at once per node (each is a headless Chromium), shared by the PDF pages and the invoice e-mails' attachments; the rest wait their turn (1-64).")

    /// The `company.*` and invoice document keys, in documentation order.
    public static let companyKeys: [ConfigKey] = [
        companyLegalName, companyAddress, companyTaxID, companyBankDetails, billingPDFRenderer, billingPDFTimeout, billingPDFConcurrency,
    ]
}

extension NodeConfiguration.Billing {
    /// `company.*` (the seller on invoices, defaults for what staff edit) and the PDF renderer.
    public struct Documents: Sendable {
        public var legalName: String
        public var address: String
        public var taxID: String?
        public var bankDetails: String?
        public var pdfRenderer: String
        public var pdfTimeout: Duration
        /// `billing.pdf_concurrency`: renderings at once on one node.
        public var pdfConcurrency: Int

        static func read(_ reader: Reader) throws(ConfigError) -> Self {
            func text(_ key: ConfigKey, limit: Int) throws(ConfigError) -> String {
                let value = try reader.string(key).replacingOccurrences(of: "\\n", with: "\n")
                guard value.count <= limit else { throw reader.fail(key, "at most \(limit) characters") }
                return value
            }
            let taxID = try text(.companyTaxID, limit: 32)
            let bank = try text(.companyBankDetails, limit: 500)
            let timeout = try reader.duration(.billingPDFTimeout)
            guard timeout >= .seconds(1), timeout <= .seconds(600) else { throw reader.fail(.billingPDFTimeout, "between 1s and 10m") }
            return Documents(
                legalName: try text(.companyLegalName, limit: 200), address: try text(.companyAddress, limit: 500), taxID: taxID.isEmpty ? nil : taxID,
                bankDetails: bank.isEmpty ? nil : bank, pdfRenderer: try reader.nonEmptyString(.billingPDFRenderer), pdfTimeout: timeout,
                pdfConcurrency: try reader.int(.billingPDFConcurrency, in: 1...64)
            )
        }
    }
}
