import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// The content lists' sort allow-lists and filters (announcements, articles, downloads), on both
/// engines: every column both ways pages without overlap or gap with many equal keys (ties broken
/// by id), the filters keep what they name, and no filter shows a reader what it may not see.
@Suite struct ContentListSortTests {
    /// All pages of `fetch` (`limit` 2) put together, checked against one query for everything.
    static func pages(_ sort: ListSort, _ fetch: (ListSort, Int, Int) async throws -> [UUID]) async throws -> [UUID] {
        var seen: [UUID] = []
        var offset = 0
        while true {
            let page = try await fetch(sort, 2, offset)
            seen += page
            if page.count < 2 { break }
            offset += 2
        }
        #expect(try await fetch(sort, 100, 0) == seen, "\(sort): the pages put together are not the whole list")
        return seen
    }

    /// Every column of `columns`, both ways: the pages hold every one of `expected`, once.
    static func everyColumn(_ columns: SortableColumns, expected: Set<UUID>, _ fetch: (ListSort, Int, Int) async throws -> [UUID]) async throws {
        for key in columns.keys {
            for direction in SortDirection.allCases {
                let seen = try await pages(ListSort(key, direction), fetch)
                #expect(seen.count == expected.count && Set(seen) == expected, "\(key) \(direction)")
            }
        }
    }

    /// Ids of equal keys in the order the tie-breaker gives (id, the list's direction).
    static func tieOrder(_ ids: [UUID], _ direction: SortDirection) -> [UUID] {
        let sorted = ids.sorted { $0.uuidString < $1.uuidString }
        return direction == .asc ? sorted : sorted.reversed()
    }

    @Test(arguments: EngineKind.allCases)
    func contentListsSortFilterAndPage(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try ContentServiceTests.Fixture(db: db)
            let staff = try await f.support.account(.staff, "Sam")
            let now = f.support.clock.now()

            // Announcements: three called "Same" at the same moment (equal title and date), one
            // other, a draft and one scheduled for tomorrow.
            var same: [UUID] = []
            for _ in 0..<3 { same.append(try await f.content.createAnnouncement(by: staff, .init(title: "Same", body: "b", audience: .public, published: true)).id) }
            let other = try await f.content.createAnnouncement(by: staff, .init(title: "Another", body: "b", audience: .clients, published: true)).id
            let draft = try await f.content.createAnnouncement(by: staff, .init(title: "Zulu draft", body: "b", audience: .public, published: false)).id
            let scheduled = try await f.content.createAnnouncement(by: staff, .init(title: "Later", body: "b", audience: .public, published: true, publishedAt: now.addingTimeInterval(86_400))).id
            let allAnnouncements = Set(same + [other, draft, scheduled])
            try await Self.everyColumn(ContentRepository.announcementSortColumns, expected: allAnnouncements) { sort, limit, offset in
                try await f.content.announcements(for: .staff, sort: sort, limit: limit, offset: offset).map(\.id)
            }
            for direction in SortDirection.allCases {
                let byTitle = try await f.content.announcements(for: .staff, sort: ListSort("title", direction), limit: 100, offset: 0).map(\.id)
                let expected = [other, scheduled] + Self.tieOrder(same, direction) + [draft]
                #expect(byTitle == (direction == .asc ? expected : [draft] + Self.tieOrder(same, direction) + [scheduled, other]), "title \(direction)")
            }
            // The default: newest first (the scheduled one, then the rest by id, newest id first).
            let newest = try await f.content.announcements(for: .staff, limit: 100, offset: 0).map(\.id)
            let explicit = try await f.content.announcements(for: .staff, sort: ListSort("published", .desc), limit: 100, offset: 0).map(\.id)
            #expect(newest.first == scheduled && newest == explicit)
            #expect(Set(try await f.content.announcements(for: .staff, state: .draft, limit: 100, offset: 0).map(\.id)) == [draft])
            #expect(Set(try await f.content.announcements(for: .staff, state: .scheduled, limit: 100, offset: 0).map(\.id)) == [scheduled])
            #expect(Set(try await f.content.announcements(for: .staff, state: .published, limit: 100, offset: 0).map(\.id)) == Set(same + [other]))
            // A filter never widens what a reader may see.
            #expect(try await f.content.announcements(for: .visitor, state: .draft, limit: 100, offset: 0).isEmpty)
            #expect(try await f.content.announcements(for: .visitor, state: .scheduled, limit: 100, offset: 0).isEmpty)
            #expect(Set(try await f.content.announcements(for: .visitor, sort: ListSort("audience", .desc), limit: 100, offset: 0).map(\.id)) == Set(same))

            // Articles: equal titles (distinct slugs) in two categories, one draft.
            let alpha = try await f.content.createCategory(by: staff, name: "Alpha", slug: nil, description: nil)
            let zeta = try await f.content.createCategory(by: staff, name: "Zeta", slug: nil, description: nil)
            var articles: [UUID] = []
            for (i, category) in [zeta, alpha, zeta, alpha].enumerated() {
                articles.append(try await f.content.createArticle(by: staff, .init(categoryID: category.id, title: "DNS", slug: "dns-\(i)", body: "b", audience: .public, published: true)).id)
            }
            let draftArticle = try await f.content.createArticle(by: staff, .init(categoryID: zeta.id, title: "Backups", slug: nil, body: "b", audience: .clients, published: false)).id
            try await Self.everyColumn(ContentRepository.articleSortColumns, expected: Set(articles + [draftArticle])) { sort, limit, offset in
                try await f.content.articles(for: .staff, categoryID: nil, search: nil, sort: sort, limit: limit, offset: offset).map(\.id)
            }
            let byCategory = try await f.content.articles(for: .staff, categoryID: nil, search: nil, sort: ListSort("category", .asc), limit: 100, offset: 0).map(\.id)
            #expect(byCategory == Self.tieOrder([articles[1], articles[3]], .asc) + Self.tieOrder([articles[0], articles[2], draftArticle], .asc))
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: nil, sort: ListSort("title", .desc), limit: 100, offset: 0).map(\.id)
                == Self.tieOrder(articles, .desc) + [draftArticle])
            #expect(try await f.content.articles(for: .staff, categoryID: nil, search: nil, state: .draft, limit: 100, offset: 0).map(\.id) == [draftArticle])
            #expect(try await f.content.articles(for: .staff, categoryID: zeta.id, search: "dns", state: .published, limit: 100, offset: 0).map(\.id) == Self.tieOrder([articles[0], articles[2]], .asc))
            #expect(try await f.content.articles(for: .visitor, categoryID: nil, search: nil, state: .draft, limit: 100, offset: 0).isEmpty)

            // Downloads: equal titles and sizes in two categories, two visibilities.
            let tools = try await f.content.createDownloadCategory(by: staff, name: "Tools", description: nil)
            let docs = try await f.content.createDownloadCategory(by: staff, name: "Docs", description: nil)
            var files: [UUID] = []
            for (i, (category, visibility)) in [(tools, DownloadVisibility.public), (docs, .loggedIn), (tools, .loggedIn), (docs, .public), (tools, .public)].enumerated() {
                let text = i == 4 ? "a longer file" : "same"
                files.append(try await f.content.upload(
                    by: staff, .init(categoryID: category.id, title: "Tool", description: nil, visibility: visibility, productID: nil),
                    filename: "tool-\(i).txt", contentType: "text/plain", declaredSize: Int64(text.utf8.count), body: ContentServiceTests.bytes(text)
                ).id)
            }
            try await Self.everyColumn(ContentRepository.downloadSortColumns, expected: Set(files)) { sort, limit, offset in
                try await f.content.downloads(for: .staff, categoryID: nil, sort: sort, limit: limit, offset: offset).map(\.id)
            }
            let bySize = try await f.content.downloads(for: .staff, categoryID: nil, sort: ListSort("size", .desc), limit: 100, offset: 0).map(\.id)
            #expect(bySize == [files[4]] + Self.tieOrder(Array(files[0..<4]), .desc))
            let bySizeUp = try await f.content.downloads(for: .staff, categoryID: nil, sort: ListSort("size", .asc), limit: 100, offset: 0).map(\.id)
            #expect(bySizeUp == Self.tieOrder(Array(files[0..<4]), .asc) + [files[4]])
            #expect(try await f.content.downloads(for: .staff, categoryID: nil, sort: ListSort("category", .asc), limit: 100, offset: 0).map(\.id)
                == Self.tieOrder([files[1], files[3]], .asc) + Self.tieOrder([files[0], files[2], files[4]], .asc))
            #expect(Set(try await f.content.downloads(for: .staff, categoryID: tools.id, visibility: .loggedIn, limit: 100, offset: 0).map(\.id)) == [files[2]])
            #expect(Set(try await f.content.downloads(for: .visitor, categoryID: nil, visibility: .loggedIn, limit: 100, offset: 0).map(\.id)).isEmpty)
            #expect(Set(try await f.content.downloads(for: .visitor, categoryID: nil, sort: ListSort("downloads", .desc), limit: 100, offset: 0).map(\.id)) == [files[0], files[3], files[4]])
        }
    }

    @Test func onlyTheAllowListsLiteralsReachSQL() {
        for columns in [ContentRepository.announcementSortColumns, ContentRepository.articleSortColumns, ContentRepository.downloadSortColumns] {
            #expect(Set(columns.keys).count == columns.keys.count)
            let hostile = columns.orderBy(ListSort("title; DROP TABLE downloads --", .desc)).description
            #expect(hostile == columns.orderBy(nil).description && !hostile.contains("DROP"))
            #expect(columns.orderBy(nil).description.hasSuffix(columns.defaultSort.direction == .asc ? "id ASC" : "id DESC"))
        }
        #expect(ContentRepository.announcementSortColumns.orderBy(nil).description == "published_at DESC, id DESC")
        #expect(ContentRepository.articleSortColumns.orderBy(nil).description == "title_lower ASC, id ASC")
    }
}
