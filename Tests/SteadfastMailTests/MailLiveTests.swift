import Foundation
import SteadfastMail
import SteadfastTestSupport
import Testing

/// Real `steadfast serve` nodes sending real mail to a real SMTP server (aiosmtpd).
@Suite("Mail live", .serialized)
struct MailLiveTests {
    static let password = "correct horse battery"
    static let staffEmail = "staff@example.com"

    static func arguments(smtpPort: Int, extra: [String] = []) -> [String] {
        var arguments = [
            "--admin-email", staffEmail, "--admin-password", password,
            "--set", "mail.transport=smtp", "--set", "mail.smtp_url=smtp://127.0.0.1:\(smtpPort)?starttls=never",
            "--set", "mail.from=Steadfast Billing <billing@steadfast.example>", "--set", "mail.delivery_interval=1s",
            "--set", "mail.send_timeout=5s", "--set", "mail.retry_base=1s",
            "--set", "jobs.lease=2s", "--set", "jobs.poll_interval=500ms", "--set", "database.timeout=10s",
            "--set", "billing.currency=EUR", "--set", "billing.gateways=banktransfer,testcard",
        ]
        for setting in extra { arguments += ["--set", setting] }
        return arguments
    }

    /// Staff log-in and a product to order.
    static func prepare(_ node: SteadfastNode) async throws -> (staff: HTTPTestClient, product: String) {
        let staff = node.client()
        let login = try await staff.postJSON("/api/v1/auth/login", ["email": staffEmail, "password": password])
        guard login.status == 200 else { throw HarnessError("staff log-in failed: \(login.status) \(login.body)") }
        let group = try await staff.postJSON("/api/v1/admin/product-groups", ["name": "Hosting"])
        let product = try await staff.postJSON("/api/v1/admin/products", [
            "group_id": group.json["id"] as? String ?? "", "name": "Web hosting", "pricing": [["cycle": "monthly", "recurring": 1000]],
        ])
        guard product.status == 201, let id = product.json["id"] as? String else { throw HarnessError("product: \(product.status) \(product.body)") }
        return (staff, id)
    }

    /// A new client who orders the product once: an `invoice_issued` mail (and whatever
    /// registration sends) is queued. Returns the invoice id.
    static func order(_ node: SteadfastNode, product: String, label: String) async throws -> String {
        let client = node.client()
        let email = "\(label)-\(UUID().uuidString.prefix(8))@example.org"
        let registered = try await client.postJSON("/api/v1/auth/register", ["email": email, "password": password, "name": label])
        guard registered.status == 201 else { throw HarnessError("register: \(registered.body)") }
        _ = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": password])
        let added = try await client.postJSON("/api/v1/cart/items", ["product_id": product, "cycle": "monthly"])
        guard added.status == 201 else { throw HarnessError("cart: \(added.body)") }
        let placed = try await client.postJSON("/api/v1/cart/checkout", [:])
        guard placed.status == 201, let invoice = placed.json["invoice_id"] as? String else { throw HarnessError("checkout: \(placed.status) \(placed.body)") }
        return invoice
    }

    static func messageIDs(_ server: SMTPTestServer) -> [String] {
        server.messages().compactMap { raw in
            String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("message-id:") }
                .map { String($0.dropFirst("Message-ID:".count)).trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Two nodes on one PostgreSQL deliver the outbox; the node sending a message is killed
    /// with -9 while the SMTP server holds its reply to DATA. Every message arrives, each
    /// Message-ID once — except the one the dead node was sending, which may arrive twice, with
    /// the same Message-ID.
    @Test func twoNodesDeliverEveryEventOnceEvenWhenTheSenderIsKilledMidBatch() async throws {
        let smtp = try await SMTPTestServer.start()
        defer { smtp.stop() }
        let postgres = try await PostgresServer.shared()
        let database = try await postgres.createDatabase(prefix: "maillive")
        let url = postgres.url(database: database)
        let a = try await SteadfastNode.start(name: "mail-a", database: url, arguments: Self.arguments(smtpPort: smtp.port))
        defer { a.process.send(SIGKILL) }
        let b = try await SteadfastNode.start(name: "mail-b", database: url, arguments: Self.arguments(smtpPort: smtp.port))
        defer { b.process.send(SIGKILL) }
        let (_, product) = try await Self.prepare(a)

        smtp.hold()
        var invoices: [String] = []
        for index in 0..<6 { invoices.append(try await Self.order(index % 2 == 0 ? a : b, product: product, label: "c\(index)")) }

        // Some node is now sending a message and waiting for the DATA reply: kill that node.
        // The sender gives up on a reply after mail.send_timeout (5 s) and sends the message
        // again later, so on a loaded machine (six orders take a while) the first held DATA may
        // have been given up on already: the one to kill is the message whose 'sending' row has
        // a held DATA now. Both nodes are frozen (SIGSTOP) while the database is asked, so no
        // send timeout runs out between the look and the kill.
        var heldID = ""
        var sender = ""
        var sending = ""
        let holding = await eventually(timeout: .seconds(40), interval: .milliseconds(20)) {
            guard !smtp.attempts().isEmpty else { return false }
            for node in [a, b] { node.process.send(SIGSTOP) }
            let held = Set(smtp.attempts().map(\.messageID))
            sending = (try? await postgres.psql("SELECT claimed_by || ' ' || message_id FROM mail_outbox WHERE state = 'sending'", database: database)) ?? ""
            let current = sending.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).map(String.init) }.first { held.contains($0.last ?? "") }
            guard let current, current.count == 2 else {
                for node in [a, b] { node.process.send(SIGCONT) }
                return false
            }
            (sender, heldID) = (current[0], current[1])
            return true
        }
        #expect(holding, "no node was found sending a held message: \(sending) \(smtp.log())")
        let victim = sender == "mail-a" ? a : b
        await victim.process.kill9()
        // Every DATA so far had its reply held back, so its sender never heard it was received.
        var heldAttempts: [String: Int] = [:]
        for attempt in smtp.attempts() { heldAttempts[attempt.messageID, default: 0] += 1 }
        for node in [a, b] { node.process.send(SIGCONT) }
        smtp.release()

        // The survivor sends everything, the dead node's message again after its claim lease.
        let total = Int(try await postgres.psql("SELECT count(*) FROM mail_outbox", database: database).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(total >= 6)
        let done = await eventually(timeout: .seconds(60), interval: .milliseconds(250)) {
            let sent = try? await postgres.psql("SELECT count(*) FROM mail_outbox WHERE state = 'sent'", database: database)
            return Int(sent?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") == total
        }
        let states = try await postgres.psql("SELECT state, count(*) FROM mail_outbox GROUP BY state", database: database)
        #expect(done, "not every message was sent: \(states)")

        let stored = Set(try await postgres.psql("SELECT message_id FROM mail_outbox", database: database).split(separator: "\n").map(String.init))
        let received = Self.messageIDs(smtp)
        #expect(Set(received) == stored, "every message arrived")
        var seen: [String: Int] = [:]
        for id in received { seen[id, default: 0] += 1 }
        // A message arrives once more than its DATA replies were held back: a message never
        // held arrives exactly once, and one whose sender gave up on (or died waiting for) the
        // reply is sent again under the same Message-ID, once.
        let unexpected = seen.filter { $0.value != (heldAttempts[$0.key] ?? 0) + 1 }
        #expect(unexpected.isEmpty, "copies received vs. held replies: \(unexpected.map { "\($0.key): \($0.value) for \(heldAttempts[$0.key] ?? 0) held" })")
        // The interrupted message did: the dead node's copy reached the server before the kill,
        // and the survivor sent it again under the same Message-ID once the claim lease ran out.
        #expect((heldAttempts[heldID] ?? 0) >= 1 && seen[heldID] == (heldAttempts[heldID] ?? 0) + 1)
        // One invoice_issued mail per invoice.
        let issued = try await postgres.psql("SELECT count(*) FROM mail_outbox WHERE template = 'invoice_issued'", database: database)
        #expect(issued.trimmingCharacters(in: .whitespacesAndNewlines) == "\(invoices.count)")
    }

    /// Invoice mails carry the invoice's PDF, made by the sending node when it sends (not in the
    /// transaction that queued the mail) with the same headless Chromium as the PDF page, one
    /// rendering at a time here (`billing.pdf_concurrency=1`): the message the SMTP server
    /// receives has an application/pdf part whose text (pdftotext) holds the invoice number and
    /// total, and the text and HTML parts say it is attached; a payment's mail carries it too.
    @Test func invoiceMailsCarryTheInvoicePDF() async throws {
        let smtp = try await SMTPTestServer.start()
        defer { smtp.stop() }
        let node = try await SteadfastNode.start(name: "mail-pdf", arguments: Self.arguments(
            smtpPort: smtp.port, extra: ["billing.pdf_concurrency=1", "company.legal_name=Steadfast Hosting GmbH"]
        ))
        defer { node.process.send(SIGKILL) }
        let (staff, product) = try await Self.prepare(node)
        let invoiceID = try await Self.order(node, product: product, label: "pdfclient")
        let invoice = try await staff.get("/api/v1/admin/invoices/\(invoiceID)")
        let number = try #require(invoice.json["number"] as? String, "\(invoice.body)")
        let total = try #require(invoice.json["total"] as? Int)
        let amount = String(format: "%d.%02d", total / 100, total % 100)

        func received(_ template: String) -> MIMEPart? {
            smtp.messages().compactMap { try? MIMEParser.parse($0) }.first { $0.header("X-Steadfast-Template") == template }
        }
        var issued: MIMEPart?
        #expect(await eventually(timeout: .seconds(90)) {
            issued = received("invoice_issued")
            return issued != nil
        }, "no invoice_issued mail: \(smtp.log().suffix(2000))")
        let message = try #require(issued)
        #expect(message.contentType == "multipart/mixed")
        let pdf = try #require(message.leaves.first { $0.contentType == "application/pdf" }, "no PDF part")
        #expect(pdf.filename == "\(number).pdf" && pdf.body.starts(with: Array("%PDF".utf8)))
        // The text parts are still there beside it, and both say the PDF is attached.
        #expect(message.leaves.contains { $0.contentType == "text/plain" && $0.text.contains(number) })
        for type in ["text/plain", "text/html"] {
            let part = message.leaves.first { $0.contentType == type }
            #expect(part?.text.contains("attached to this e-mail as a PDF") == true, "\(type): \(part?.text ?? "no part")")
        }
        let text = try Self.pdfText(pdf.body)
        #expect(text.contains(number) && text.contains(amount) && text.contains("Steadfast Hosting GmbH"), "\(text.prefix(1500))")

        // Staff record a bank transfer: payment_received carries the (now paid) invoice too.
        let paid = try await staff.postJSON("/api/v1/admin/invoices/\(invoiceID)/payments", [
            "amount": total, "gateway": "banktransfer", "transaction_id": "BT-1",
        ], headers: ["Idempotency-Key": UUID().uuidString])
        if paid.status == 201 || paid.status == 200 {
            var receipt: MIMEPart?
            #expect(await eventually(timeout: .seconds(90)) {
                receipt = received("payment_received")
                return receipt != nil
            })
            let attached = try #require(receipt?.leaves.first { $0.contentType == "application/pdf" })
            #expect(try Self.pdfText(attached.body).contains(number))
            #expect(receipt?.leaves.first { $0.contentType == "text/plain" }?.text.contains("attached to this e-mail as a PDF") == true)
        } else {
            Issue.record("recording the payment failed: \(paid.status) \(paid.body)")
        }
    }

    /// The text of a PDF, by `pdftotext` (poppler-utils).
    static func pdfText(_ pdf: [UInt8]) throws -> String {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "mail-pdf")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("invoice.pdf")
        try Data(pdf).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pdftotext", "-layout", file.path, directory.appendingPathComponent("invoice.txt").path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("pdftotext failed (\(process.terminationStatus))") }
        return try String(contentsOf: directory.appendingPathComponent("invoice.txt"), encoding: .utf8)
    }

    /// One node on SQLite; the SMTP server answers 550: the message is marked failed, staff see
    /// it in the API and on the page, and can queue it again. Templates are edited through the API.
    @Test func aRefusedMessageIsFailedAndShownToStaff() async throws {
        let smtp = try await SMTPTestServer.start(mode: .reject)
        defer { smtp.stop() }
        let node = try await SteadfastNode.start(name: "mail-solo", arguments: Self.arguments(smtpPort: smtp.port))
        defer { node.process.send(SIGKILL) }
        let (staff, product) = try await Self.prepare(node)

        // A staff override of invoice_issued, checked and escaped; a broken one is refused.
        let broken = try await staff.send("PUT", "/api/v1/admin/mail/templates/invoice_issued", headers: ["Content-Type": "application/json"],
                                          body: Array(#"{"subject": "x", "text_body": "{{#open}}", "html_body": "y"}"#.utf8))
        #expect(broken.status == 400 && (broken.json["error"] as? [String: Any])?["field"] as? String == "text_body", "\(broken.body)")
        let saved = try await staff.send("PUT", "/api/v1/admin/mail/templates/invoice_issued", headers: ["Content-Type": "application/json"],
                                         body: Array(#"{"subject": "Your invoice {{invoice_number}}", "text_body": "Total {{amount}}", "html_body": "<p>Total {{amount}}</p>"}"#.utf8))
        #expect(saved.status == 200 && saved.json["overridden"] as? Bool == true, "\(saved.body)")
        #expect(try await staff.get("/api/v1/admin/mail/templates/no_such_thing").status == 404)

        _ = try await Self.order(node, product: product, label: "refused")
        var failed: [[String: Any]] = []
        let marked = await eventually(timeout: .seconds(30)) {
            failed = (try? await staff.get("/api/v1/admin/mail/outbox?state=failed"))?.json["items"] as? [[String: Any]] ?? []
            return failed.contains { $0["template"] as? String == "invoice_issued" }
        }
        #expect(marked)
        let invoiceMail = try #require(failed.first { $0["template"] as? String == "invoice_issued" })
        #expect((invoiceMail["last_error"] as? String)?.contains("550") == true)
        #expect((invoiceMail["subject"] as? String)?.hasPrefix("Your invoice INV-") == true)
        #expect(smtp.attempts().allSatisfy { $0.code == 550 })

        let page = try await staff.get("/admin/mail")
        #expect(page.status == 200 && page.body.contains("could not be delivered"))
        let retried = try await staff.postJSON("/api/v1/admin/mail/outbox/\(invoiceMail["id"] as? String ?? "")/retry", [:])
        #expect(retried.status == 200 && retried.json["state"] as? String == "pending")
        // A client is not staff.
        let client = node.client()
        let email = "nosy-\(UUID().uuidString.prefix(6))@example.org"
        _ = try await client.postJSON("/api/v1/auth/register", ["email": email, "password": Self.password, "name": "Nosy"])
        _ = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": Self.password])
        #expect(try await client.get("/api/v1/admin/mail/outbox").status == 403)
    }
}
