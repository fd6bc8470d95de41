extension OpenAPIDocument {
    /// Invoices as documents (docs/billing.md, "Invoices as documents").
    static var documentOperations: [Operation] { [
        Operation(method: "get", path: "/invoices/{id}/pdf", summary: "One of the client's issued invoices as a PDF (application/pdf, printed by headless Chromium); 503 when the renderer is missing or runs past billing.pdf_timeout", access: .account, tag: "client"),
        Operation(method: "get", path: "/admin/invoices/{id}/pdf", summary: "Any invoice as a PDF (clients.read)", access: .staff, tag: "staff"),
        Operation(method: "get", path: "/admin/company", summary: "The seller printed on invoices: legal_name, address, tax_id, bank_details (staff edits, else company.* from the configuration) (settings.manage)", access: .staff, tag: "staff"),
        Operation(method: "put", path: "/admin/company", summary: "Set the seller printed on invoices issued from now on; issued invoices keep their copy (settings.manage)", access: .staff, body: object(["legal_name": string, "address": string, "tax_id": string, "bank_details": string], required: ["legal_name"]), tag: "staff"),
    ] }
}
