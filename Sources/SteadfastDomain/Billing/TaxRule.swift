/// The tax charged to clients in one country, or in one region (state, province) of it.
public struct TaxRule: Sendable, Hashable, Codable {
    /// ISO 3166-1 alpha-2 country code, upper case (`DE`, `US`).
    public let country: String
    /// Region code within the country (`NY`, `QC`), upper case; `nil` for the whole country.
    public let region: String?
    /// What the invoice calls the tax (`VAT`, `Sales tax`, `GST`).
    public let name: String
    public let rate: TaxRate

    public init(country: String, region: String? = nil, name: String, rate: TaxRate) {
        self.country = country.uppercased()
        self.region = region.map { $0.uppercased() }
        self.name = name
        self.rate = rate
    }

    /// Parses `DE=19`, `DE=19:VAT`, `US-NY=8.875:Sales tax` (the configuration syntax).
    public init(parsing raw: String) throws(BillingError) {
        let text = raw.trimmingASCIIWhitespace()
        guard let equals = text.firstIndex(of: "=") else {
            throw .invalid("tax rule '\(raw)' must look like DE=19:VAT or US-NY=8.875:Sales tax", field: "tax_rules")
        }
        let place = String(text[..<equals]).trimmingASCIIWhitespace()
        let rest = text[text.index(after: equals)...]
        let rateText: Substring
        let name: String
        if let colon = rest.firstIndex(of: ":") {
            rateText = rest[..<colon]
            name = String(rest[rest.index(after: colon)...]).trimmingASCIIWhitespace()
        } else {
            rateText = rest
            name = "Tax"
        }
        let placeParts = place.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let countryPart = placeParts.first, countryPart.count == 2, countryPart.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .invalid("tax rule '\(raw)': the country must be a two-letter ISO code", field: "tax_rules")
        }
        guard CountryCode.isAssigned(countryPart.uppercased()) else {
            throw .invalid("tax rule '\(raw)': \(countryPart.uppercased()) is not an ISO 3166-1 country code", field: "tax_rules")
        }
        let region = placeParts.count == 2 ? String(placeParts[1]) : nil
        if let region, region.isEmpty || region.count > 10 || !region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw .invalid("tax rule '\(raw)': the region must be a short code such as NY", field: "tax_rules")
        }
        guard !name.isEmpty, name.count <= 40 else {
            throw .invalid("tax rule '\(raw)': the tax name must be 1-40 characters", field: "tax_rules")
        }
        self.init(country: String(countryPart), region: region, name: name, rate: try TaxRate(percent: String(rateText), field: "tax_rules"))
    }
}
