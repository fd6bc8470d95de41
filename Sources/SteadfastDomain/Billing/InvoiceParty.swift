import Foundation

/// Who an invoice is from or to, as printed on it: copied onto the invoice when it is issued,
/// so the document keeps the names and addresses it was issued with.
public struct InvoiceParty: Sendable, Hashable, Codable {
    public var name: String
    /// Postal address, several lines.
    public var address: String
    /// ISO 3166-1 alpha-2 (``CountryCode``), when known.
    public var country: String?
    /// VAT or other tax id.
    public var taxID: String?
    public var email: String?
    /// Where to pay (the seller's bank details).
    public var bankDetails: String?

    enum CodingKeys: String, CodingKey {
        case name, address, country, email
        case taxID = "tax_id"
        case bankDetails = "bank_details"
    }

    public init(name: String, address: String, country: String? = nil, taxID: String? = nil, email: String? = nil, bankDetails: String? = nil) {
        self.name = name
        self.address = address
        self.country = country
        self.taxID = taxID
        self.email = email
        self.bankDetails = bankDetails
    }

    /// The country's English name, or nil.
    public var countryName: String? { country.flatMap { CountryCode.names[$0] } }

    /// Checks what a person typed for a party: name, address and tax id lengths and characters.
    /// Empty strings become nil / "". Returns the normalised values.
    public static func validate(name: String?, address: String?, taxID: String?, fields: (name: String, address: String, taxID: String))
        throws(BillingError) -> (name: String?, address: String?, taxID: String?) {
        func clean(_ text: String?) -> String? {
            let trimmed = text?.trimmingASCIIWhitespace().replacingOccurrences(of: "\r\n", with: "\n")
            return (trimmed?.isEmpty ?? true) ? nil : trimmed
        }
        let name = clean(name), address = clean(address), taxID = clean(taxID)?.uppercased()
        if let name, name.count > 200 || name.contains(where: { $0.isNewline }) {
            throw .invalid("the name must be one line of at most 200 characters", field: fields.name)
        }
        if let address, address.count > 500 || address.split(separator: "\n").count > 8 {
            throw .invalid("the address must be at most 8 lines and 500 characters", field: fields.address)
        }
        if let taxID, taxID.count > 32 || !taxID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || " -.".contains($0)) }) {
            throw .invalid("the tax id must be at most 32 letters, digits, spaces, dots or dashes", field: fields.taxID)
        }
        return (name, address, taxID)
    }
}
