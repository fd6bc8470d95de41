import Foundation
import SteadfastDomain
import Hummingbird
import SteadfastServices

/// An invoice as a document: seller and buyer (as copied when it was issued), lines, totals,
/// every payment and refund with its sign and number, and the balance due. One template
/// (`billing/invoice-document`) serves the printable page and the PDF.
enum InvoiceDocument {
    static let template = "billing/invoice-document"

    /// The template's values. `seller`/`buyer` are used only when the invoice has no copy of
    /// its own (issued before invoices kept one).
    static func values(_ invoice: Invoice, payments: [Payment], seller: InvoiceParty, buyer: InvoiceParty) -> [String: Any] {
        var values = PageValues.invoice(invoice)
        values["seller"] = party(invoice.seller ?? seller)
        values["buyer"] = party(invoice.buyer ?? buyer)
        values["received"] = PageValues.money(invoice.amountReceived)
        values["refunded"] = PageValues.money(invoice.amountRefunded.negated)
        values["hasRefunds"] = invoice.amountRefunded.isPositive
        values["movements"] = payments.sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }.map(movement)
        values["hasMovements"] = !payments.isEmpty
        values["title"] = invoice.status == .draft ? "Draft invoice" : "Invoice \(invoice.number ?? "")"
        return values
    }

    /// The file name (without `.pdf`) of the invoice's PDF: its number, ASCII-safe.
    static func filename(_ invoice: Invoice) -> String {
        String((invoice.number ?? "invoice").map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
    }

    static func party(_ party: InvoiceParty) -> [String: Any] {
        var values: [String: Any] = [
            "name": party.name, "addressLines": party.address.split(separator: "\n", omittingEmptySubsequences: true).map(String.init),
        ]
        values["country"] = party.countryName ?? party.country
        values["taxID"] = party.taxID
        values["email"] = party.email
        values["bankLines"] = party.bankDetails.map { $0.split(separator: "\n").map(String.init) } ?? []
        values["hasBank"] = party.bankDetails != nil
        return values
    }

    /// A payment (positive) or refund (negative, with its RF-/CN- number) as a document row.
    static func movement(_ payment: Payment) -> [String: Any] {
        let what: String = switch (payment.kind, payment.gateway) {
        case (.payment, "credit"): "Paid from credit balance"
        case (.payment, _): "Payment (\(payment.gateway))"
        case (.refund, _) where payment.documentNumber?.hasPrefix("CN") == true: "Credit note"
        case (.refund, _): "Refund"
        }
        return [
            "date": PageValues.date(payment.createdAt), "what": what, "number": payment.documentNumber ?? "",
            "amount": PageValues.money(payment.signedAmount), "refund": payment.kind == .refund,
        ]
    }
}

extension BillingWeb {
    /// The document values of `invoice`: its own seller and buyer copies, else today's company
    /// identity and the client's current details (invoices issued before the copy existed).
    func documentValues(_ invoice: Invoice) async throws -> [String: Any] {
        let payments = try await invoices.payments(invoiceID: invoice.id)
        let seller = try await invoices.company()
        let client = try await clients.client(id: invoice.clientID)
        let buyer = try await clients.profile(clientID: invoice.clientID).buyer(accountName: client.name, email: client.email)
        return InvoiceDocument.values(invoice, payments: payments, seller: seller, buyer: buyer)
    }

    /// The invoice as a PDF response (`application/pdf`, named after its number); 503 when the
    /// renderer is missing, fails or runs out of time.
    func pdfResponse(_ invoice: Invoice, pages: PageRenderer) async throws -> Response {
        let html = pages.library.render(try await documentValues(invoice), withTemplate: InvoiceDocument.template) ?? ""
        let bytes: Data
        do {
            bytes = try await pdf.render(html: html)
        } catch let failed as InvoicePDFRenderer.Failed {
            throw HTTPError(.serviceUnavailable, message: "The PDF could not be made just now: \(failed.description).")
        }
        let name = InvoiceDocument.filename(invoice)
        var headers: HTTPFields = [.contentType: "application/pdf", .contentDisposition: "inline; filename=\"\(name).pdf\""]
        headers[.cacheControl] = "no-store"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
