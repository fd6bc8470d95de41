import Foundation
import Mustache
import SteadfastMail
import SteadfastDomain

/// The invoice PDFs invoice e-mails carry (docs/billing.md, "Invoices as documents"), made by the
/// node that sends the mail, at send time: the same document template and the same Chromium
/// renderer (with its per-node limit, `billing.pdf_concurrency`) as `GET /invoices/{id}/pdf`.
/// Nothing is rendered in the transaction that queues the mail and nothing is kept in a node's
/// memory: a node that dies mid-rendering leaves the message to the next claim, which renders again.
struct InvoiceMailAttachments: MailAttachmentSource {
    let billing: BillingWeb
    let library: MustacheLibrary

    func invoicePDF(id: UUID) async throws -> MailAttachment {
        let invoice = try await existingInvoice(id: id)
        let html = library.render(try await billing.documentValues(invoice), withTemplate: InvoiceDocument.template) ?? ""
        let bytes: Data
        do {
            bytes = try await billing.pdf.render(html: html)
        } catch let failed as InvoicePDFRenderer.Failed {
            throw MailAttachmentUnavailable(failed.description, permanent: false)
        }
        return MailAttachment(filename: InvoiceDocument.filename(invoice) + ".pdf", contentType: "application/pdf", data: Array(bytes))
    }

    private func existingInvoice(id: UUID) async throws -> Invoice {
        do {
            return try await billing.invoices.invoice(id: id, clientID: nil)
        } catch let error as BillingError where error.kind == .notFound {
            throw MailAttachmentUnavailable("invoice \(id.uuidString.lowercased()) does not exist", permanent: true)
        }
    }
}
