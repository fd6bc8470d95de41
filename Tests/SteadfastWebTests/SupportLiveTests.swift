import Crypto
import Foundation
import SteadfastTestSupport
import Testing

/// Live tests of the support desk: real nodes, one PostgreSQL, a real S3 server (moto) or a
/// shared directory; the authorisation walk; bad uploads through the API and the HTML forms.
@Suite(.serialized) struct SupportLiveTests {
    static let staffArguments = ["--admin-email", "staff@example.com", "--admin-password", "staff passphrase 1"]
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + FilesLiveTests.randomBytes(30_000)

    static func staff(_ node: SteadfastNode) async throws -> HTTPTestClient {
        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": "staff passphrase 1"]).status == 200)
        return staff
    }

    static func department(_ staff: HTTPTestClient, email: String = "support@example.com") async throws -> String {
        let created = try await staff.postJSON("/api/v1/admin/support/departments", ["name": "Technical", "email": email, "public": true])
        #expect(created.status == 201, "\(created.body)")
        return try #require(created.json["id"] as? String)
    }

    static func upload(_ client: HTTPTestClient, name: String, bytes: [UInt8]) async throws -> HTTPTestClient.Response {
        try await client.send("POST", "/api/v1/tickets/attachments", headers: [
            "Content-Type": "application/octet-stream", "X-Upload-Filename": name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name,
        ], body: bytes)
    }

    /// A `multipart/form-data` body: fields, then files; `truncate` cuts it short.
    static func multipart(_ fields: [(String, String)], files: [(String, [UInt8])], boundary: String = "----steadfast-\(UUID().uuidString)") -> (String, [UInt8]) {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (filename, bytes) in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"files\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", body)
    }

    /// Files the node's local storage holds for ticket attachments (temporary files excluded).
    static func storedFiles(under root: URL) -> Int {
        let base = root.appendingPathComponent("ticket_attachments")
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { return 0 }
        return enumerator.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }.count
    }

    /// A client opens a ticket with two attachments through node A; node B lists it and serves
    /// both files byte-identical; after node A's kill -9 node B still serves them. Once with S3
    /// (moto) for ticket attachments, once with a directory both nodes share.
    @Test(arguments: ["s3", "local"])
    func attachmentsWrittenOnOneNodeAreServedByAnotherAfterItDies(_ storage: String) async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "support")
        let shared = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-nas")
        var arguments = ["--set", "storage.local_path=\(shared.path)"] + Self.staffArguments
        var moto: MotoServer?
        if storage == "s3" {
            let s3 = try await MotoServer.start()
            moto = s3
            #expect(try await HTTPTestClient(baseURL: s3.endpoint.absoluteString).send("PUT", "/steadfast-tickets").status == 200)
            let targets = #"[{"name": "s3", "kind": "s3", "bucket": "steadfast-tickets", "endpoint": "\#(s3.endpoint.absoluteString)", "access_key_id": "test", "secret_access_key": "test"}]"#
            arguments += ["--set", "storage.targets=\(targets)", "--set", #"storage.types={"ticket_attachments": {"target": "s3"}}"#]
        }
        defer { moto?.stop() }
        let a = try await SteadfastNode.start(name: "support-a", database: server.url(database: database), arguments: arguments)
        let b = try await SteadfastNode.start(name: "support-b", database: server.url(database: database), arguments: arguments)
        defer {
            a.process.send(SIGKILL)
            b.process.send(SIGKILL)
        }
        let departmentID = try await Self.department(try await Self.staff(a))
        let onA = try await FilesLiveTests.client(a, email: "c@example.com")
        let log = Array("2026-12-05 disk full\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 70_000)
        let first = try await Self.upload(onA, name: "server.log", bytes: log)
        let second = try await Self.upload(onA, name: "screen.png", bytes: Self.png)
        #expect(first.status == 201 && second.status == 201, "\(first.body) \(second.body)")
        let ids = [try #require(first.json["id"] as? String), try #require(second.json["id"] as? String)]
        let opened = try await onA.postJSON("/api/v1/tickets", [
            "department_id": departmentID, "subject": "Disk full", "message": "See the log", "priority": "high", "attachments": ids,
        ])
        #expect(opened.status == 201, "\(opened.body)")
        let ticketID = try #require(opened.json["id"] as? String)
        #expect((opened.json["number"] as? String)?.wholeMatch(of: /TKT-[0-9]{6}/) != nil)
        #expect(opened.json["status"] as? String == "open")

        let onB = onA.pointed(at: b.baseURL)
        func checkServedByB() async throws {
            let listed = try await onB.get("/api/v1/tickets")
            #expect((listed.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [ticketID])
            let detail = try await onB.get("/api/v1/tickets/\(ticketID)")
            let attachments = try #require((detail.json["messages"] as? [[String: Any]])?.first?["attachments"] as? [[String: Any]])
            #expect(Set(attachments.compactMap { $0["sha256"] as? String }) == [FilesLiveTests.sha256(log), FilesLiveTests.sha256(Self.png)])
            for (id, bytes) in zip(ids, [log, Self.png]) {
                let content = try await onB.send("GET", "/api/v1/tickets/\(ticketID)/attachments/\(id)/content")
                #expect(content.status == 200 && content.bytes == bytes)
                #expect(content.header("Content-Disposition")?.hasPrefix("attachment;") == true)
                let range = try await onB.get("/api/v1/tickets/\(ticketID)/attachments/\(id)/content", headers: ["Range": "bytes=4-11"])
                #expect(range.status == 206 && range.bytes == Array(bytes[4...11]))
            }
        }
        try await checkServedByB()
        if storage == "s3" {
            // Or as a presigned S3 redirect, which S3 itself serves.
            let redirect = try await onB.get("/api/v1/tickets/\(ticketID)/attachments/\(ids[1])/content?redirect=1")
            #expect(redirect.status == 303)
            let location = try #require(redirect.header("Location"))
            #expect(location.hasPrefix(moto!.endpoint.absoluteString) && location.contains("X-Amz-Signature"))
            let fromS3 = try await HTTPTestClient(baseURL: "").send("GET", location)
            #expect(fromS3.status == 200 && fromS3.bytes == Self.png)
        }
        await a.process.kill9()
        try await checkServedByB()
        let staffOnB = try await Self.staff(b)
        let queue = try await staffOnB.get("/api/v1/admin/tickets?status=open")
        #expect((queue.json["items"] as? [[String: Any]])?.first?["id"] as? String == ticketID)
        #expect(try await staffOnB.send("GET", "/api/v1/tickets/\(ticketID)/attachments/\(ids[0])/content").bytes == log)
    }

    /// Another client gets 404 for every ticket, message, note and attachment route; a visitor
    /// gets the log-in page; internal notes never reach the client in JSON or HTML.
    @Test func authorisationWalk() async throws {
        let node = try await SteadfastNode.start(name: "support-authz", arguments: Self.staffArguments)
        defer { node.process.send(SIGKILL) }
        let staff = try await Self.staff(node)
        let departmentID = try await Self.department(staff)
        let alice = try await FilesLiveTests.client(node, email: "alice@example.com")
        let mallory = try await FilesLiveTests.client(node, email: "mallory@example.com")
        let file = try #require(try await Self.upload(alice, name: "alice.txt", bytes: Array("alice private".utf8)).json["id"] as? String)
        let ticketID = try #require(try await alice.postJSON("/api/v1/tickets", [
            "department_id": departmentID, "subject": "Alice's", "message": "alice private text", "attachments": [file],
        ]).json["id"] as? String)
        let noteFile = try #require(try await Self.upload(staff, name: "note.txt", bytes: Array("NOTE-SECRET file".utf8)).json["id"] as? String)
        let note = try await staff.postJSON("/api/v1/admin/tickets/\(ticketID)/replies", ["message": "NOTE-SECRET: client is odd", "internal": true, "attachments": [noteFile]])
        #expect(note.status == 201, "\(note.body)")
        #expect(try await staff.postJSON("/api/v1/admin/tickets/\(ticketID)/replies", ["message": "We are on it"]).status == 201)

        let mallorysCSRF = try #require(NodeLiveTests.csrfToken(in: try await mallory.get("/clientarea/tickets/new").body))
        let probes: [(String, String)] = [
            ("GET", "/api/v1/tickets/\(ticketID)"),
            ("GET", "/api/v1/tickets/\(ticketID)/attachments/\(file)/content"),
            ("GET", "/api/v1/tickets/\(ticketID)/attachments/\(noteFile)/content"),
            ("GET", "/clientarea/tickets/\(ticketID)"),
            ("GET", "/clientarea/tickets/\(ticketID)/attachments/\(file)"),
            ("GET", "/clientarea/tickets/\(ticketID)/attachments/\(noteFile)"),
        ]
        for (method, path) in probes {
            let answer = try await mallory.send(method, path)
            #expect(answer.status == 404, "\(method) \(path) answered \(answer.status) to another client")
            #expect(!answer.body.contains("alice private") && !answer.body.contains("NOTE-SECRET"))
        }
        #expect(try await mallory.postJSON("/api/v1/tickets/\(ticketID)/replies", ["message": "mine now"]).status == 404)
        #expect(try await mallory.postJSON("/api/v1/tickets/\(ticketID)/close", [:]).status == 404)
        let (type, body) = Self.multipart([("_csrf", mallorysCSRF), ("ticket_id", ticketID), ("message", "mine now")], files: [])
        #expect(try await mallory.send("POST", "/clientarea/tickets/reply", headers: ["Content-Type": type], body: body).status == 404)
        #expect(try await mallory.postForm("/clientarea/tickets/close", ["_csrf": mallorysCSRF, "ticket_id": ticketID]).status == 404)
        #expect((try await mallory.get("/api/v1/tickets").json["items"] as? [Any])?.isEmpty == true)
        // Staff routes: 403 for clients, whatever the ticket.
        #expect(try await mallory.get("/api/v1/admin/tickets").status == 403)
        #expect(try await alice.send("PUT", "/api/v1/admin/tickets/\(ticketID)", headers: ["Content-Type": "application/json"], body: Array(#"{"status":"closed"}"#.utf8)).status == 403)
        #expect(try await alice.get("/admin/tickets").status == 403)

        // The ticket's own client: everything but the note, in JSON and HTML.
        let json = try await alice.get("/api/v1/tickets/\(ticketID)")
        #expect(json.status == 200 && json.body.contains("We are on it") && !json.body.contains("NOTE-SECRET") && !json.body.contains(noteFile))
        let html = try await alice.get("/clientarea/tickets/\(ticketID)")
        #expect(html.status == 200 && html.body.contains("We are on it") && !html.body.contains("NOTE-SECRET") && !html.body.contains(noteFile))
        #expect(try await alice.get("/api/v1/tickets/\(ticketID)/attachments/\(noteFile)/content").status == 404)
        // Staff see the note.
        #expect(try await staff.get("/api/v1/admin/tickets/\(ticketID)").body.contains("NOTE-SECRET"))
        #expect(try await staff.get("/admin/tickets/\(ticketID)").body.contains("NOTE-SECRET"))

        // A visitor: the log-in page for pages, 401 for the API.
        let visitor = node.client()
        for path in ["/clientarea/tickets", "/clientarea/tickets/\(ticketID)", "/admin/tickets", "/clientarea/tickets/\(ticketID)/attachments/\(file)"] {
            let answer = try await visitor.get(path)
            #expect(answer.status == 303 && answer.header("Location") == "/login", "\(path): \(answer.status)")
        }
        #expect(try await visitor.get("/api/v1/tickets/\(ticketID)").status == 401)
        #expect(try await visitor.get("/api/v1/admin/tickets").status == 401)
    }

    /// Oversized → 413, disallowed type or content → 415, truncated multipart → 400, each
    /// with nothing stored; a hostile file name is stored as a label and shown escaped.
    @Test func badUploadsStoreNothingAndHostileNamesAreEscaped() async throws {
        let node = try await SteadfastNode.start(name: "support-input", arguments: Self.staffArguments + ["--set", "support.attachment_max_size=64KiB"])
        defer { node.process.send(SIGKILL) }
        let files = node.workingDirectory.appendingPathComponent("steadfast-data/files")
        let departmentID = try await Self.department(try await Self.staff(node))
        let alice = try await FilesLiveTests.client(node, email: "alice@example.com")

        let big = try await Self.upload(alice, name: "big.log", bytes: Array(repeating: UInt8(ascii: "a"), count: 70_000))
        #expect(big.status == 413, "\(big.body)")
        let exe = try await Self.upload(alice, name: "setup.exe", bytes: [0x4D, 0x5A, 0x90, 0x00])
        #expect(exe.status == 415)
        let fakePNG = try await Self.upload(alice, name: "photo.png", bytes: [0x4D, 0x5A, 0x90, 0x00])
        #expect(fakePNG.status == 415 && fakePNG.body.contains("photo.png"))
        #expect(try await Self.upload(alice, name: "../../etc/passwd.txt", bytes: [0x61]).status == 400)
        // A body shorter than its Content-Length never arrives whole: the client's send fails
        // or the node answers 400; either way nothing is stored.
        #expect(Self.storedFiles(under: files) == 0)

        // The HTML form: a truncated multipart body is a 400 and stores nothing.
        let csrf = try #require(NodeLiveTests.csrfToken(in: try await alice.get("/clientarea/tickets/new").body))
        let hostile = "<img src=x onerror=alert(1)>.txt"
        let (type, body) = Self.multipart(
            [("_csrf", csrf), ("department_id", departmentID), ("subject", "Hostile"), ("message", "see file"), ("priority", "low")],
            files: [(hostile, Array("harmless text".utf8))]
        )
        let truncated = try await alice.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": type], body: Array(body.dropLast(60)))
        #expect(truncated.status == 400, "\(truncated.status) \(truncated.body)")
        #expect(Self.storedFiles(under: files) == 0)
        #expect((try await alice.get("/api/v1/tickets").json["items"] as? [Any])?.isEmpty == true)
        // A disallowed file in the form: 415, the text kept in the re-rendered form, nothing stored.
        let (exeType, exeBody) = Self.multipart(
            [("_csrf", csrf), ("department_id", departmentID), ("subject", "Keep me"), ("message", "my long explanation")], files: [("tool.exe", [0x4D, 0x5A])]
        )
        let refused = try await alice.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": exeType], body: exeBody)
        #expect(refused.status == 415 && refused.body.contains("my long explanation"))
        #expect(Self.storedFiles(under: files) == 0)
        // Without the CSRF token: 403.
        let (noCSRFType, noCSRFBody) = Self.multipart([("department_id", departmentID), ("subject", "x"), ("message", "y")], files: [])
        #expect(try await alice.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": noCSRFType], body: noCSRFBody).status == 403)

        let complete = try await alice.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": type], body: body)
        #expect(complete.status == 303, "\(complete.status) \(complete.body)")
        let location = try #require(complete.header("Location"))
        #expect(Self.storedFiles(under: files) == 1)
        let page = try await alice.get(location)
        #expect(page.status == 200)
        #expect(!page.body.contains("<img src=x"))
        #expect(page.body.contains("&lt;img src=x onerror=alert(1)&gt;.txt"))
        let ticketID = String(location.split(separator: "/").last!)
        let detail = try await alice.get("/api/v1/tickets/\(ticketID)")
        let attachment = try #require(((detail.json["messages"] as? [[String: Any]])?.first?["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["filename"] as? String == hostile)
        let download = try await alice.send("GET", "/api/v1/tickets/\(ticketID)/attachments/\(attachment["id"] as! String)/content")
        #expect(download.bytes == Array("harmless text".utf8))
        #expect(download.header("Content-Disposition")?.contains("filename=\"<img src=x onerror=alert(1)>.txt\"") == true)
        #expect(download.header("X-Content-Type-Options") == "nosniff")
    }

    /// Staff work the queue in the pages: departments and canned replies from the queue page, a
    /// canned reply and an internal note from the ticket page (multipart, CSRF), status and
    /// assignee; the client's page shows the reply and never the note.
    @Test func staffWorkTheQueueInThePages() async throws {
        let node = try await SteadfastNode.start(name: "support-pages", arguments: Self.staffArguments)
        defer { node.process.send(SIGKILL) }
        let staff = node.client()
        #expect(try await staff.postForm("/login", ["_csrf": try #require(NodeLiveTests.csrfToken(in: try await staff.get("/login").body)),
                                                    "email": "staff@example.com", "password": "staff passphrase 1"]).status == 303)
        let staffCSRF = try #require(NodeLiveTests.csrfToken(in: try await staff.get("/admin/tickets").body))
        #expect(try await staff.postForm("/admin/support/departments", ["_csrf": staffCSRF, "name": "Billing questions", "email": "billing@example.com", "public": "1"]).status == 303)
        #expect(try await staff.postForm("/admin/support/canned-replies", ["_csrf": staffCSRF, "title": "Thanks", "body": "CANNED: thank you for waiting"]).status == 303)
        let queuePage = try await staff.get("/admin/tickets")
        #expect(queuePage.body.contains("Billing questions") && queuePage.body.contains("CANNED: thank you"))

        let client = try await FilesLiveTests.client(node, email: "pages@example.com")
        let departmentID = try #require((try await client.get("/api/v1/support/departments").json["items"] as? [[String: Any]])?.first?["id"] as? String)
        let clientCSRF = try #require(NodeLiveTests.csrfToken(in: try await client.get("/clientarea/tickets/new").body))
        let (type, body) = Self.multipart([("_csrf", clientCSRF), ("department_id", departmentID), ("subject", "Invoice question"), ("message", "Why?")],
                                          files: [("C:\\fakepath\\invoice.pdf", Array("%PDF-1.4 test".utf8))])
        let opened = try await client.send("POST", "/clientarea/tickets/new", headers: ["Content-Type": type], body: body)
        #expect(opened.status == 303, "\(opened.body)")
        let ticketID = String(try #require(opened.header("Location")).split(separator: "/").last!)
        #expect(try await staff.get("/admin/tickets?status=open").body.contains("Invoice question"))

        let ticketPage = try await staff.get("/admin/tickets/\(ticketID)")
        #expect(ticketPage.body.contains("invoice.pdf") && !ticketPage.body.contains("fakepath"))
        let cannedID = try #require(ticketPage.body.firstMatch(of: /<option value="([0-9a-f-]{36})">Thanks<\/option>/)?.1).description
        let (replyType, replyBody) = Self.multipart([("_csrf", staffCSRF), ("ticket_id", ticketID), ("message", ""), ("canned_reply_id", cannedID)], files: [])
        #expect(try await staff.send("POST", "/admin/tickets/reply", headers: ["Content-Type": replyType], body: replyBody).status == 303)
        let (noteType, noteBody) = Self.multipart([("_csrf", staffCSRF), ("ticket_id", ticketID), ("message", "PAGE-NOTE: check the ledger"), ("internal", "1")], files: [])
        #expect(try await staff.send("POST", "/admin/tickets/reply", headers: ["Content-Type": noteType], body: noteBody).status == 303)
        #expect(try await staff.postForm("/admin/tickets/update", ["_csrf": staffCSRF, "ticket_id": ticketID, "status": "on_hold", "assign_me": "1"]).status == 303)

        let api = try await staff.get("/api/v1/admin/tickets/\(ticketID)")
        let ticket = try #require(api.json["ticket"] as? [String: Any])
        #expect(ticket["status"] as? String == "on_hold" && ticket["assignee_id"] as? String != nil)
        let mine = try await staff.get("/api/v1/admin/tickets?assignee_id=\(ticket["assignee_id"] as! String)")
        #expect((mine.json["items"] as? [[String: Any]])?.count == 1)
        #expect((try await staff.get("/api/v1/admin/tickets?status=open").json["items"] as? [Any])?.isEmpty == true)
        #expect(try await staff.get("/api/v1/admin/tickets?status=nonsense").status == 400)

        let clientPage = try await client.get("/clientarea/tickets/\(ticketID)")
        #expect(clientPage.body.contains("CANNED: thank you for waiting") && !clientPage.body.contains("PAGE-NOTE"))
        #expect(try await staff.get("/admin/tickets/\(ticketID)").body.contains("PAGE-NOTE"))
    }
}
