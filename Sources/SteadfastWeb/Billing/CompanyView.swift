import SteadfastDomain

/// The seller as `GET/PUT /api/v1/admin/company` show it (the keys staff send).
struct CompanyView: Encodable {
    let legalName: String
    let address: String
    let taxId: String?
    let bankDetails: String?

    init(_ party: InvoiceParty) {
        legalName = party.name
        address = party.address
        taxId = party.taxID
        bankDetails = party.bankDetails
    }
}
