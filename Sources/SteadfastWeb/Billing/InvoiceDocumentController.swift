import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastServices

/// Invoices as documents: the PDF of an invoice (the client's own, or any for staff) and the
/// seller identity staff edit (`company.*`, docs/billing.md "Invoices as documents").
struct InvoiceDocumentController: Sendable {
    let billing: BillingWeb
    let pages: PageRenderer

    struct CompanyInput: Decodable {
        let legalName: String?
        let address: String?
        let taxId: String?
        let bankDetails: String?
    }

    func addRoutes(api: RouterGroup<PortalRequestContext>, html: RouterGroup<PortalRequestContext>) {
        api.group().add(middleware: RequireClientPermission(.billing)).get("invoices/{id}/pdf", use: clientPDF)
        api.group("admin").add(middleware: RequirePermission(.clientsRead)).get("invoices/{id}/pdf", use: staffPDF)
        let settings = api.group("admin").add(middleware: RequirePermission(.settingsManage))
        settings.get("company", use: company)
        settings.put("company", use: updateCompany)
        let pages = html.group("admin").add(middleware: RequirePermission(.settingsManage))
        pages.get("company", use: companyPage)
        // A refused change comes back filled in (``FormReplay``).
        pages.post("company", rerendering: companyPage, use: saveCompanyPage)
    }

    /// The caller's own issued invoice as a PDF (drafts and other clients' invoices: 404).
    @Sendable func clientPDF(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), for: account)
        guard invoice.status != .draft else { throw BillingError.notFound("invoice") }
        return try await billing.pdfResponse(invoice, pages: pages)
    }

    @Sendable func staffPDF(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let invoice = try await billing.invoices.invoice(id: try context.id(what: "invoice"), clientID: nil)
        return try await billing.pdfResponse(invoice, pages: pages)
    }

    @Sendable func company(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(CompanyView(try await billing.invoices.company()), from: request, context: context)
    }

    @Sendable func updateCompany(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: CompanyInput.self, context: context)
        return try context.responseEncoder.encode(CompanyView(try await billing.invoices.updateCompany(
            legalName: input.legalName, address: input.address, taxID: input.taxId, bankDetails: input.bankDetails
        )), from: request, context: context)
    }

    @Sendable func companyPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let company = try await billing.invoices.company()
        let field = { (name: String, label: String, value: String, kind: FormField.Kind, required: Bool) in
            FormField.make(name, label: label, value: value, kind: kind, required: required, form: "company", context: context)
        }
        return pages.page("billing/company", title: "Company details", values: [
            "fields": [
                "legalName": field("legal_name", "Legal name", company.name, .text(type: "text"), true),
                "address": field("address", "Address", company.address, .textarea(rows: 4), false),
                "taxID": field("tax_id", "Tax id (VAT number)", company.taxID ?? "", .text(type: "text"), false),
                "bankDetails": field("bank_details", "Bank details", company.bankDetails ?? "", .textarea(rows: 4), false),
            ],
            "saved": request.uri.queryParameters.get("saved") != nil,
        ], context: context)
    }

    @Sendable func saveCompanyPage(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let form = try await FormFields.read(request, context: context)
        _ = try await billing.invoices.updateCompany(
            legalName: form["legal_name"], address: form["address"], taxID: form["tax_id"], bankDetails: form["bank_details"]
        )
        return redirect(to: "/admin/company?saved=1")
    }
}
