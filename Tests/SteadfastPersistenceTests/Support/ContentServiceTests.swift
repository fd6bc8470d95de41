import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage
import SteadfastTestSupport
import Testing

@Suite struct SafeMarkdownTests {
    @Test(arguments: HostileMarkdownCorpus.all)
    func hostileMarkdownRendersWithoutScript(_ markdown: String) {
        let html = SafeMarkdown.html(markdown)
        #expect(HostileMarkdownCorpus.problems(in: html) == [], "\(markdown.debugDescription) → \(html)")
        // Sanitising is stable: the output is already safe as it is.
        #expect(HTMLSanitizer.sanitize(html) == html, "\(markdown.debugDescription)")
    }

    @Test func ordinaryMarkdownKeepsItsFormatting() {
        let html = SafeMarkdown.html("""
            # Title

            Some *emphasis*, **strong**, `code <b>` and a [link](https://example.com/a?b=1&c=2).

            * one
            * two

            ![logo](/static/logo.png)

            ```swift
            let a = 1 < 2
            ```

            [mail](mailto:help@example.com) and [relative](/knowledgebase/dns) and [anchor](#top)
            """)
        #expect(html.contains("<h1>Title</h1>"))
        #expect(html.contains("<em>emphasis</em>") && html.contains("<strong>strong</strong>"))
        #expect(html.contains("<code>code &lt;b&gt;</code>"))
        #expect(html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\">link</a>"), "\(html)")
        #expect(html.contains("<ul><li>one</li><li>two</li></ul>"))
        #expect(html.contains("<img src=\"/static/logo.png\" alt=\"logo\">"))
        #expect(html.contains("1 &lt; 2"))
        #expect(html.contains("href=\"mailto:help@example.com\"") && html.contains("href=\"/knowledgebase/dns\"") && html.contains("href=\"#top\""))
    }

    @Test func rawHTMLIsShownAsText() {
        #expect(SafeMarkdown.html("<script>alert(1)</script>").contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        // A dropped URL leaves the link text, without a target.
        let html = SafeMarkdown.html("[click](javascript:alert(1))")
        #expect(html.contains("<a rel") == false && html.contains(">click</a>"), "\(html)")
    }

    @Test func unbalancedTagsAreClosed() {
        #expect(HTMLSanitizer.sanitize("<blockquote><p>x") == "<blockquote><p>x</p></blockquote>")
        #expect(HTMLSanitizer.sanitize("</p></div>x") == "&lt;/div&gt;x")
    }
}

/// Announcements, the knowledge base and downloads on one database (both engines) with a local
/// storage directory and a hand-moved clock.
@Suite struct ContentServiceTests {
    struct Fixture {
        let support: SupportFixture
        let content: ContentService
        init(db: any SQLDatabase, registry: StorageRegistry? = nil, maxDownloadSize: Int64 = 4096) throws {
            support = try SupportFixture(db: db, registry: registry)
            content = ContentService(database: db, files: support.tickets.files, maxDownloadSize: maxDownloadSize, clock: support.clock, logger: Logger(label: "test"))
        }
    }

    static func bytes(_ text: String) -> StorageByteStream { StorageByteStream.buffers([ByteBuffer(string: text)]) }

    /// For each reader, the lists show exactly what the single look-ups allow, and what a reader
    /// may not see is `notFound` like an unknown id.
    @Test(arguments: EngineKind.allCases)
    func visibilityOfAnnouncementsAndArticles(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try Fixture(db: db)
            let staff = try await f.support.account(.staff, "Sam")
            let client = try await f.support.account(.client, "Cleo")
            let now = f.support.clock.now()
            let pub = try await f.content.createAnnouncement(by: staff, .init(title: "Public news", body: "hello", audience: .public, published: true))
            let clients = try await f.content.createAnnouncement(by: staff, .init(title: "Clients news", body: "CLIENT-SECRET", audience: .clients, published: true))
            let draft = try await f.content.createAnnouncement(by: staff, .init(title: "Draft news", body: "draft", audience: .public, published: false))
            let later = try await f.content.createAnnouncement(by: staff, .init(title: "Tomorrow", body: "soon", audience: .public, published: true, publishedAt: now.addingTimeInterval(86_400)))
            await #expect(performing: { _ = try await f.content.createAnnouncement(by: client, .init(title: "x", body: "y", audience: .public, published: true)) }, throws: { ($0 as? SupportError)?.kind == .forbidden })

            let category = try await f.content.createCategory(by: staff, name: "DNS & Domains", slug: nil, description: nil)
            #expect(category.slug == "dns-domains")
            let a1 = try await f.content.createArticle(by: staff, .init(categoryID: category.id, title: "Set up 100% of DNS_records", slug: nil, body: "b", audience: .public, published: true))
            let a2 = try await f.content.createArticle(by: staff, .init(categoryID: category.id, title: "Private DNS", slug: "private-dns", body: "CLIENT-SECRET", audience: .clients, published: true))
            let a3 = try await f.content.createArticle(by: staff, .init(categoryID: category.id, title: "Draft DNS", slug: nil, body: "d", audience: .public, published: false))
            await #expect(performing: { _ = try await f.content.createArticle(by: staff, .init(categoryID: category.id, title: "Other", slug: "private-dns", body: "b", audience: .public, published: true)) },
                          throws: { ($0 as? SupportError)?.kind == .conflict })

            let expectations: [(ContentReader, Set<UUID>, Set<UUID>)] = [
                (.visitor, [pub.id], [a1.id]),
                (.client(client.id), [pub.id, clients.id], [a1.id, a2.id]),
                (.staff, [pub.id, clients.id, draft.id, later.id], [a1.id, a2.id, a3.id]),
            ]
            for (reader, announcements, articles) in expectations {
                let listed = Set(try await f.content.announcements(for: reader, limit: 50, offset: 0).map(\.id))
                #expect(listed == announcements, "\(reader)")
                for id in [pub.id, clients.id, draft.id, later.id, UUID()] {
                    let found = (try? await f.content.announcement(id: id, for: reader)) != nil
                    #expect(found == announcements.contains(id), "\(reader) \(id)")
                }
                #expect(Set(try await f.content.articles(for: reader, categoryID: nil, search: nil, limit: 50, offset: 0).map(\.id)) == articles, "\(reader)")
                #expect(try await f.content.categories(for: reader).first?.articles == Int64(articles.count))
                for article in [a1, a2, a3] {
                    let byID = (try? await f.content.article(id: article.id, for: reader)) != nil
                    let bySlug = (try? await f.content.article(slug: article.slug, for: reader)) != nil
                    #expect(byID == articles.contains(article.id) && bySlug == byID, "\(reader) \(article.title)")
                }
            }
            // The scheduled announcement appears once its date has come.
            f.support.clock.advance(by: 86_401)
            #expect(try await f.content.announcements(for: .visitor, limit: 50, offset: 0).map(\.id) == [later.id, pub.id])

            // Search is by title, case-insensitive; % and _ match only themselves.
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: "dns", limit: 50, offset: 0).count == 3)
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: "100%", limit: 50, offset: 0).map(\.id) == [a1.id])
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: "up_1", limit: 50, offset: 0).isEmpty)
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: "up%dns", limit: 50, offset: 0).isEmpty)
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: "DNS_r", limit: 50, offset: 0).map(\.id) == [a1.id])
            #expect(try await f.content.articles(for: .visitor, categoryID: nil, search: "private", limit: 50, offset: 0).isEmpty)
            // Paging.
            #expect(try await f.content.articles(for: .staff, categoryID: category.id, search: nil, limit: 2, offset: 2).count == 1)
            // A category with articles is not deleted.
            await #expect(performing: { try await f.content.deleteCategory(by: staff, id: category.id) }, throws: { ($0 as? SupportError)?.kind == .conflict })
        }
    }

    @Test(arguments: EngineKind.allCases)
    func downloadsAreStoredCountedAndDeleted(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 2) { dbs in
            let f = try Fixture(db: dbs[0])
            let staff = try await f.support.account(.staff, "Sam")
            let client = try await f.support.account(.client, "Cleo")
            let category = try await f.content.createDownloadCategory(by: staff, name: "Tools", description: nil)
            let input = ContentService.DownloadInput(categoryID: category.id, title: nil, description: "the tool", visibility: .loggedIn, productID: nil)
            let download = try await f.content.upload(by: staff, input, filename: "tool.sh", contentType: "text/x-shellscript", declaredSize: 5, body: Self.bytes("hello"))
            #expect(download.title == "tool.sh" && download.size == 5 && download.downloadCount == 0)
            #expect(try await f.support.count("stored_files") == 1 && f.support.storedObjects().count == 1)
            #expect(f.support.storedObjects().first?.hasPrefix("downloads/") == true)

            // Visibility: a visitor cannot have it, a client can; a product-only file needs a product.
            await #expect(performing: { _ = try await f.content.download(id: download.id, for: .visitor) }, throws: { ($0 as? SupportError)?.kind == .notFound })
            #expect(try await f.content.download(id: download.id, for: .client(client.id)).id == download.id)
            await #expect(performing: { _ = try await f.content.upload(by: staff, .init(categoryID: category.id, title: nil, description: nil, visibility: .product, productID: nil), filename: "a", contentType: nil, declaredSize: 1, body: Self.bytes("a")) },
                          throws: { ($0 as? SupportError)?.field == "product_id" })
            await #expect(performing: { _ = try await f.content.upload(by: staff, .init(categoryID: category.id, title: nil, description: nil, visibility: .product, productID: UUID()), filename: "a", contentType: nil, declaredSize: 1, body: Self.bytes("a")) },
                          throws: { ($0 as? SupportError)?.kind == .notFound })
            await #expect(performing: { _ = try await f.content.upload(by: client, input, filename: "a", contentType: nil, declaredSize: 1, body: Self.bytes("a")) },
                          throws: { ($0 as? SupportError)?.kind == .forbidden })

            // Too large: refused on the declared size before any byte is stored.
            await #expect(performing: { _ = try await f.content.upload(by: staff, input, filename: "big.bin", contentType: nil, declaredSize: 4097, body: Self.bytes(String(repeating: "x", count: 4097))) },
                          throws: { ($0 as? SupportError)?.kind == .tooLarge })
            // Fewer bytes than declared: nothing stays.
            await #expect(performing: { _ = try await f.content.upload(by: staff, input, filename: "short.bin", contentType: nil, declaredSize: 10, body: Self.bytes("abc")) },
                          throws: { ($0 as? SupportError)?.kind == .invalid })
            #expect(try await f.support.count("stored_files") == 1 && f.support.storedObjects().count == 1)

            // Counting: concurrent downloads through two database handles each count once.
            let other = ContentService(database: dbs[1], files: f.content.files, maxDownloadSize: 4096, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask { try await (i % 2 == 0 ? f.content : other).countDownload(download) }
                }
                try await group.waitForAll()
            }
            #expect(try await f.content.download(id: download.id, for: .staff).downloadCount == 40)

            // Deleting removes the row, the catalogue entry and the bytes.
            try await f.content.deleteDownload(by: staff, id: download.id)
            #expect(try await f.support.count("stored_files") == 0 && f.support.storedObjects().isEmpty)
            try await f.content.deleteDownloadCategory(by: staff, id: category.id)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aStorageOutageStoresNothing(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            try await SupportFixture.withStorageDown(bucket: "downloads") { down in
                let f = try Fixture(db: db, registry: down)
                let staff = try await f.support.account(.staff, "Sam")
                let category = try await f.content.createDownloadCategory(by: staff, name: "Tools", description: nil)
                await #expect(performing: {
                    _ = try await f.content.upload(by: staff, .init(categoryID: category.id, title: nil, description: nil, visibility: .public, productID: nil), filename: "a.txt", contentType: nil, declaredSize: 3, body: Self.bytes("abc"))
                }, throws: { ($0 as? SupportError)?.kind == .storageUnavailable })
                #expect(try await f.support.count("stored_files") == 0)
                #expect(try await db.first("SELECT COUNT(*) AS n FROM downloads")?.int("n") == 0)
            }
        }
    }
}
