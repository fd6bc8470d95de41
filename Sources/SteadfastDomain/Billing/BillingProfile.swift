import Foundation

/// A client's billing details: where they are (for tax), whether they are tax-exempt, and the
/// currency they are billed in. Created with the provider's defaults the first time it is needed.
public struct BillingProfile: Sendable, Hashable {
    public var clientID: UUID
    /// ISO 3166-1 alpha-2, upper case; `nil` when unknown (no tax rule matches).
    public var country: String?
    public var region: String?
    public var taxExempt: Bool
    public var currency: Currency
    /// The name invoices are made out to (a company's legal name); `nil`: the account's name.
    public var legalName: String?
    /// The postal address printed on invoices.
    public var address: String?
    /// The client's VAT (or other tax) id, printed on invoices.
    public var taxID: String?

    public init(
        clientID: UUID, country: String?, region: String?, taxExempt: Bool, currency: Currency, legalName: String? = nil, address: String? = nil,
        taxID: String? = nil
    ) {
        self.clientID = clientID
        self.country = country
        self.region = region
        self.taxExempt = taxExempt
        self.currency = currency
        self.legalName = legalName
        self.address = address
        self.taxID = taxID
    }

    /// The buyer as an invoice issued now names them (`accountName`/`email`: the account's).
    public func buyer(accountName: String, email: String?) -> InvoiceParty {
        InvoiceParty(name: legalName ?? accountName, address: address ?? "", country: country, taxID: taxID, email: email)
    }

    /// Validates and normalises a country code (an assigned ISO 3166-1 alpha-2 code, ``CountryCode``)
    /// or region (1-10 letters/digits).
    public static func validatePlace(country: String?, region: String?) throws(BillingError) -> (String?, String?) {
        let country = country?.trimmingASCIIWhitespace().uppercased()
        let region = region?.trimmingASCIIWhitespace().uppercased()
        let normalizedCountry = (country?.isEmpty ?? true) ? nil : country
        let normalizedRegion = (region?.isEmpty ?? true) ? nil : region
        if let c = normalizedCountry, c.count != 2 || !c.allSatisfy({ $0.isASCII && $0.isLetter }) {
            throw .invalid("country must be a two-letter ISO code such as DE or US", field: "country")
        }
        if let c = normalizedCountry, !CountryCode.isAssigned(c) {
            throw .invalid("\(c) is not an ISO 3166-1 country code; use one such as DE or US", field: "country")
        }
        if let r = normalizedRegion, r.count > 10 || !r.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw .invalid("region must be a short code such as NY", field: "region")
        }
        return (normalizedCountry, normalizedRegion)
    }
}
