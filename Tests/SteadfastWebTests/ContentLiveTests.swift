import Foundation
import SteadfastTestSupport
import Testing

/// Live tests of the support content (docs/content.md) on real nodes: what a visitor, a client,
/// the owner of a product and staff see of announcements, articles and downloads in JSON and
/// HTML (on SQLite and on PostgreSQL); hostile Markdown in pages; download counts under
/// concurrent downloads through two nodes; upload limits.
@Suite(.serialized) struct ContentLiveTests {
    static func csrf(_ client: HTTPTestClient, page: String) async throws -> String {
        try #require(NodeLiveTests.csrfToken(in: try await client.get(page).body))
    }

    /// Staff add a file through the raw-body API.
    static func upload(_ staff: HTTPTestClient, category: String, name: String, bytes: [UInt8], visibility: String, product: String? = nil) async throws -> HTTPTestClient.Response {
        var query = "category_id=\(category)&visibility=\(visibility)"
        if let product { query += "&product_id=\(product)" }
        return try await staff.send("POST", "/api/v1/admin/downloads?\(query)", headers: [
            "Content-Type": "application/octet-stream", "X-Upload-Filename": name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name,
        ], body: bytes)
    }

    static func ids(_ response: HTTPTestClient.Response) -> Set<String> {
        Set((response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    /// Files the node's local storage holds for the downloads library (temporary files excluded).
    static func storedDownloads(_ node: SteadfastNode) -> Int {
        let base = node.workingDirectory.appendingPathComponent("steadfast-data/files/downloads")
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { return 0 }
        return enumerator.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }.count
    }

    @Test(arguments: BillingLive.Engine.allCases)
    func eachReaderSeesOnlyWhatIsTheirs(_ engine: BillingLive.Engine) async throws {
        let live = try await BillingLive.start(engine, name: "content_\(engine.rawValue)")
        defer { live.stop() }
        let staff = live.staff

        // Announcements: public, clients-only, a draft.
        func announce(_ title: String, audience: String, published: Bool) async throws -> String {
            let created = try await staff.postJSON("/api/v1/admin/announcements", ["title": title, "body": "Text of \(title)", "audience": audience, "published": published])
            #expect(created.status == 201, "\(created.body)")
            return try #require(created.json["id"] as? String)
        }
        let publicNews = try await announce("PUBLIC-NEWS", audience: "public", published: true)
        let clientNews = try await announce("CLIENT-NEWS", audience: "clients", published: true)
        let draftNews = try await announce("DRAFT-NEWS", audience: "public", published: false)

        // Knowledge base: one category, the same three kinds of article.
        let category = try await staff.postJSON("/api/v1/admin/kb/categories", ["name": "Getting started"])
        #expect(category.status == 201 && category.json["slug"] as? String == "getting-started", "\(category.body)")
        let categoryID = try #require(category.json["id"] as? String)
        func write(_ title: String, audience: String, published: Bool) async throws -> (id: String, slug: String) {
            let created = try await staff.postJSON("/api/v1/admin/kb/articles", ["category_id": categoryID, "title": title, "body": "Body of \(title)", "audience": audience, "published": published])
            #expect(created.status == 201, "\(created.body)")
            return (try #require(created.json["id"] as? String), try #require(created.json["slug"] as? String))
        }
        let publicArticle = try await write("PUBLIC-ARTICLE", audience: "public", published: true)
        let clientArticle = try await write("CLIENT-ARTICLE", audience: "clients", published: true)
        let draftArticle = try await write("DRAFT-ARTICLE", audience: "public", published: false)

        // Downloads: public, logged-in, owners of the product.
        let downloadCategory = try await staff.postJSON("/api/v1/admin/downloads/categories", ["name": "Software"])
        let downloadCategoryID = try #require(downloadCategory.json["id"] as? String, "\(downloadCategory.body)")
        let bytes = (0..<3).map { i in Array("file \(i) ".utf8) + FilesLiveTests.randomBytes(20_000) }
        var files: [String] = []
        for (i, visibility) in ["public", "logged_in", "product"].enumerated() {
            let uploaded = try await Self.upload(staff, category: downloadCategoryID, name: "FILE-\(visibility).bin", bytes: bytes[i], visibility: visibility, product: visibility == "product" ? live.productID : nil)
            #expect(uploaded.status == 201, "\(uploaded.body)")
            #expect(uploaded.json["sha256"] as? String == FilesLiveTests.sha256(bytes[i]))
            files.append(try #require(uploaded.json["id"] as? String))
        }

        // An owner (an active service of the product) and a client without one.
        let owner = try await live.client("owner")
        try await live.pay(owner, invoice: try await live.order(owner).invoice)
        let services = try await owner.get("/api/v1/services").json["items"] as? [[String: Any]]
        #expect(services?.first?["status"] as? String == "active", "\(String(describing: services))")
        let client = try await live.client("plain")
        let visitor = live.nodes[0].client()

        struct Reader {
            let name: String
            let http: HTTPTestClient
            let announcements: Set<String>
            let articles: Set<String>
            let files: Set<String>
        }
        let readers = [
            Reader(name: "visitor", http: visitor, announcements: [publicNews], articles: [publicArticle.id], files: [files[0]]),
            Reader(name: "client", http: client, announcements: [publicNews, clientNews], articles: [publicArticle.id, clientArticle.id], files: [files[0], files[1]]),
            Reader(name: "owner", http: owner, announcements: [publicNews, clientNews], articles: [publicArticle.id, clientArticle.id], files: Set(files)),
            Reader(name: "staff", http: staff, announcements: [publicNews, clientNews, draftNews], articles: [publicArticle.id, clientArticle.id, draftArticle.id], files: Set(files)),
        ]
        let titles = [publicNews: "PUBLIC-NEWS", clientNews: "CLIENT-NEWS", draftNews: "DRAFT-NEWS",
                      publicArticle.id: "PUBLIC-ARTICLE", clientArticle.id: "CLIENT-ARTICLE", draftArticle.id: "DRAFT-ARTICLE",
                      files[0]: "FILE-public", files[1]: "FILE-logged_in", files[2]: "FILE-product"]
        let slugs = [publicArticle.id: publicArticle.slug, clientArticle.id: clientArticle.slug, draftArticle.id: draftArticle.slug]
        for reader in readers {
            let r = reader.http
            // Lists, JSON and HTML: exactly what the reader may see, and no title of the rest.
            #expect(Self.ids(try await r.get("/api/v1/announcements")) == reader.announcements, "\(reader.name)")
            #expect(Self.ids(try await r.get("/api/v1/kb/articles")) == reader.articles, "\(reader.name)")
            #expect(Self.ids(try await r.get("/api/v1/kb/articles?q=article&category_id=\(categoryID)")) == reader.articles, "\(reader.name)")
            #expect(Self.ids(try await r.get("/api/v1/downloads")) == reader.files, "\(reader.name)")
            let count = (try await r.get("/api/v1/kb/categories").json["items"] as? [[String: Any]])?.first?["articles"] as? Int
            #expect(count == reader.articles.count, "\(reader.name)")
            let pages = [
                try await r.get("/announcements").body, try await r.get("/knowledgebase?category=getting-started").body,
                try await r.get("/knowledgebase?q=ARTICLE").body, try await r.get("/downloads").body,
            ].joined()
            for (id, title) in titles {
                let visible = reader.announcements.contains(id) || reader.articles.contains(id) || reader.files.contains(id)
                #expect(pages.contains(title) == visible, "\(reader.name): \(title) shown: \(!visible)")
                for list in ["/api/v1/announcements", "/api/v1/kb/articles", "/api/v1/downloads"] where !visible {
                    let body = try await r.get(list).body
                    #expect(!body.contains(title) && !body.contains(id), "\(reader.name): \(list) leaks \(title)")
                }
            }
            // Single look-ups: 200 for what the reader may see, 404 (with nothing of it) otherwise.
            for id in [publicNews, clientNews, draftNews] {
                let visible = reader.announcements.contains(id)
                for path in ["/api/v1/announcements/\(id)", "/announcements/\(id)"] {
                    let answer = try await r.get(path)
                    #expect(answer.status == (visible ? 200 : 404), "\(reader.name) \(path)")
                    #expect(answer.body.contains("Text of \(titles[id]!)") == visible, "\(reader.name) \(path)")
                }
            }
            for id in [publicArticle.id, clientArticle.id, draftArticle.id] {
                let visible = reader.articles.contains(id)
                for path in ["/api/v1/kb/articles/\(id)", "/knowledgebase/\(slugs[id]!)"] {
                    let answer = try await r.get(path)
                    #expect(answer.status == (visible ? 200 : 404), "\(reader.name) \(path)")
                    #expect(answer.body.contains("Body of \(titles[id]!)") == visible, "\(reader.name) \(path)")
                }
            }
            for (i, id) in files.enumerated() {
                let visible = reader.files.contains(id)
                #expect(try await r.get("/api/v1/downloads/\(id)").status == (visible ? 200 : 404), "\(reader.name) file \(i)")
                for path in ["/api/v1/downloads/\(id)/content", "/downloads/\(id)"] {
                    let answer = try await r.get(path)
                    #expect(answer.status == (visible ? 200 : 404), "\(reader.name) \(path)")
                    #expect((answer.bytes == bytes[i]) == visible, "\(reader.name) \(path)")
                    if visible {
                        #expect(answer.header("Content-Disposition")?.hasPrefix("attachment;") == true)
                        #expect(answer.header("X-Content-Type-Options") == "nosniff")
                    }
                }
                if visible {
                    let range = try await r.get("/api/v1/downloads/\(id)/content", headers: ["Range": "bytes=5-14"])
                    #expect(range.status == 206 && range.bytes == Array(bytes[i][5...14]), "\(reader.name) range")
                }
            }
        }
        // Each file was downloaded from its first byte twice by each reader allowed it; ranges
        // from elsewhere do not count.
        for (i, id) in files.enumerated() {
            let allowed = readers.filter { $0.files.contains(id) }.count
            #expect(try await staff.get("/api/v1/downloads/\(id)").json["download_count"] as? Int == 2 * allowed, "file \(i)")
        }
        // Clients are kept out of staff routes; visitors too.
        #expect(try await client.postJSON("/api/v1/admin/announcements", ["title": "x", "body": "y"]).status == 403)
        #expect(try await visitor.postJSON("/api/v1/admin/announcements", ["title": "x", "body": "y"]).status == 401)
        #expect(try await client.send("DELETE", "/api/v1/admin/downloads/\(files[0])").status == 403)
        #expect(try await client.get("/admin/content").status == 403)
        let toLogin = try await visitor.get("/admin/content")
        #expect(toLogin.status == 303 && toLogin.header("Location") == "/login")
        // Staff pages show drafts and offer the forms.
        #expect(try await staff.get("/admin/content").status == 200)
        #expect(try await staff.get("/admin/content/announcements").body.contains("DRAFT-NEWS"))
        #expect(try await staff.get("/admin/content/articles").body.contains("DRAFT-ARTICLE"))
        #expect(try await staff.get("/admin/content/downloads").body.contains("enctype=\"multipart/form-data\""))
        #expect(try await client.get("/admin/content/announcements").status == 403)
    }

    /// Hostile Markdown saved through the API and the staff form comes out of the pages and
    /// the JSON's `body_html` with no script, handler or dangerous link.
    @Test func hostileMarkdownIsNeverServedAsMarkup() async throws {
        let live = try await BillingLive.start(.sqlite, name: "content_xss")
        defer { live.stop() }
        let staff = live.staff
        // Bodies may not hold control characters (400), so the corpus's NUL case is left out here.
        let markdown = HostileMarkdownCorpus.all.filter { !$0.unicodeScalars.contains { $0.value == 0 } }.joined(separator: "\n\n")
        let category = try #require(try await staff.postJSON("/api/v1/admin/kb/categories", ["name": "Evil"]).json["id"] as? String)
        let article = try await staff.postJSON("/api/v1/admin/kb/articles", ["category_id": category, "title": "<script>alert('title')</script>", "slug": "evil", "body": markdown])
        #expect(article.status == 201, "\(article.body)")
        let bodyHTML = try #require(article.json["body_html"] as? String)
        #expect(HostileMarkdownCorpus.problems(in: bodyHTML) == [], "\(bodyHTML)")

        // Through the staff form too.
        let csrf = try await Self.csrf(staff, page: "/admin/content")
        let posted = try await staff.postForm("/admin/announcements", ["_csrf": csrf, "title": "\"><img src=x onerror=alert(1)>", "body": markdown, "published": "1"])
        #expect(posted.status == 303, "\(posted.status) \(posted.body.prefix(300))")

        for path in ["/knowledgebase/evil", "/announcements"] {
            let page = try await live.nodes[0].client().get(path)
            #expect(page.status == 200)
            let content = try #require(page.body.firstMatch(of: /<div class="markdown">([\s\S]*?)<\/div>\n<\/article>/)?.1, "\(path)")
            #expect(HostileMarkdownCorpus.problems(in: String(content)) == [], "\(path): \(content)")
            // Titles are escaped by the templates.
            #expect(!page.body.contains("<script>alert('title')") && !page.body.contains("<img src=x onerror"), "\(path)")
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
        }
    }

    /// Two nodes on one PostgreSQL: a file uploaded through node A is served by node B, and 40
    /// concurrent downloads through both nodes count exactly 40.
    @Test func concurrentDownloadsThroughTwoNodesCountOnce() async throws {
        let live = try await BillingLive.start(.postgres, name: "content_count", settings: ["storage.local_path=\(try TestPaths.makeTemporaryDirectory(prefix: "steadfast-nas").path)"])
        defer { live.stop() }
        let category = try #require(try await live.staff.postJSON("/api/v1/admin/downloads/categories", ["name": "Tools"]).json["id"] as? String)
        let bytes = FilesLiveTests.randomBytes(50_000)
        let uploaded = try await Self.upload(live.staff, category: category, name: "tool.tar.gz", bytes: bytes, visibility: "public")
        #expect(uploaded.status == 201, "\(uploaded.body)")
        let id = try #require(uploaded.json["id"] as? String)
        let onA = live.nodes[0].client(), onB = live.nodes[1].client()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                group.addTask {
                    let answer = try await (i % 2 == 0 ? onA : onB).get("/api/v1/downloads/\(id)/content")
                    return answer.status == 200 && answer.bytes == bytes
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 40 && results.allSatisfy { $0 })
        // Ranges that do not start at the first byte are parts of a download already counted.
        #expect(try await onB.get("/api/v1/downloads/\(id)/content", headers: ["Range": "bytes=100-"]).status == 206)
        #expect(try await onA.get("/api/v1/downloads/\(id)").json["download_count"] as? Int == 40)
    }

    /// Above `support.download_max_size` the API and the form answer 413 and nothing is
    /// stored; a truncated form is a 400; a small file through the form is stored and listed.
    @Test func uploadLimitsStoreNothing() async throws {
        let live = try await BillingLive.start(.sqlite, name: "content_limits", settings: ["support.download_max_size=64KiB"])
        defer { live.stop() }
        let node = live.nodes[0]
        let staff = live.staff
        let category = try #require(try await staff.postJSON("/api/v1/admin/downloads/categories", ["name": "Tools"]).json["id"] as? String)
        let big = Array(repeating: UInt8(ascii: "a"), count: 70_000)
        let tooLarge = try await Self.upload(staff, category: category, name: "big.bin", bytes: big, visibility: "public")
        #expect(tooLarge.status == 413, "\(tooLarge.body)")

        let csrf = try await Self.csrf(staff, page: "/admin/content")
        let fields = [("_csrf", csrf), ("category_id", category), ("visibility", "logged_in"), ("title", "Small tool")]
        let (type, body) = SupportLiveTests.multipart(fields, files: [("big.bin", big)])
        #expect(try await staff.send("POST", "/admin/downloads/upload", headers: ["Content-Type": type], body: body).status == 413)
        let (_, truncated) = SupportLiveTests.multipart(fields, files: [("cut.bin", Array("abc".utf8))], boundary: "cut-boundary")
        #expect(try await staff.send("POST", "/admin/downloads/upload", headers: ["Content-Type": "multipart/form-data; boundary=cut-boundary"], body: Array(truncated.dropLast(30))).status == 400)
        #expect(Self.storedDownloads(node) == 0)
        #expect(Self.ids(try await staff.get("/api/v1/downloads")).isEmpty)
        // Client uploads are refused before anything is stored.
        let client = try await live.client()
        #expect(try await Self.upload(client, category: category, name: "mine.bin", bytes: [1, 2, 3], visibility: "public").status == 403)

        let small = Array("#!/bin/sh\necho hi\n".utf8)
        let (smallType, smallBody) = SupportLiveTests.multipart(fields, files: [("tool.sh", small)])
        let stored = try await staff.send("POST", "/admin/downloads/upload", headers: ["Content-Type": smallType], body: smallBody)
        #expect(stored.status == 303, "\(stored.status) \(stored.body.prefix(300))")
        let listed = try await client.get("/api/v1/downloads").json["items"] as? [[String: Any]]
        #expect(listed?.count == 1 && listed?.first?["title"] as? String == "Small tool" && listed?.first?["visibility"] as? String == "logged_in")
        let id = try #require(listed?.first?["id"] as? String)
        #expect(try await client.get("/downloads/\(id)").bytes == small)
        #expect(Self.storedDownloads(node) == 1)
        // Deleting removes the bytes too.
        #expect(try await staff.send("DELETE", "/api/v1/admin/downloads/\(id)").status == 204)
        #expect(Self.storedDownloads(node) == 0)
    }
}
