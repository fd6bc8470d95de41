import Foundation
import Testing
@testable import SteadfastMail

@Suite("Mail templates")
struct MailTemplatesTests {
    @Test func everyShippedTemplateRendersAndTheHTMLBodyIsEscaped() throws {
        let templates = MailTemplates.shipped
        #expect(Set(templates.defaults.keys) == Set(MailTemplateKey.allCases))
        let values = ["client_name": "<script>x</script> & Co", "invoice_number": "INV-1", "amount": "€10.00", "due_date": "2026-01-01", "invoice_url": "https://p/x?a=1&b=2"]
        let mail = try templates.render(templates.defaults[.invoiceIssued]!, values: values)
        #expect(mail.subject == "Invoice INV-1 issued")
        #expect(mail.textBody.contains("Hello <script>x</script> & Co,"))
        #expect(mail.htmlBody.contains("Hello &lt;script&gt;x&lt;/script&gt; &amp; Co,"))
        #expect(!mail.htmlBody.contains("<script>"))
        #expect(mail.htmlBody.contains("<title>Invoice INV-1 issued</title>"))
        #expect(mail.htmlBody.contains("https://p/x?a=1&amp;b=2"))
    }

    @Test func aSubjectIsFoldedToOneLineSoAValueCannotAddHeaders() throws {
        let source = MailTemplateSource(subject: "Hi {{name}}", textBody: "x", htmlBody: "x")
        let mail = try MailTemplates.shipped.render(source, values: ["name": "a\r\nBcc: victim@example.com"])
        #expect(!mail.subject.contains("\n") && !mail.subject.contains("\r"))
    }

    @Test func brokenOverridesAreRefusedNamingThePart() {
        #expect(throws: MailTemplateError.self) { try MailTemplates.validate(.init(subject: "ok", textBody: "{{#open}}", htmlBody: "x")) }
        do {
            try MailTemplates.validate(.init(subject: "ok", textBody: "fine", htmlBody: "{{#a}}"))
            Issue.record("accepted a broken HTML body")
        } catch let error as MailTemplateError {
            #expect(error.field == "html_body")
        } catch { Issue.record("\(error)") }
        #expect(throws: MailTemplateError.self) { try MailTemplates.validate(.init(subject: "  ", textBody: "x", htmlBody: "x")) }
    }
}
