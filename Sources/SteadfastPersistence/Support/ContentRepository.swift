import Foundation
import SteadfastDomain

/// Announcements, knowledge-base categories and articles, and the downloads library
/// (docs/content.md). Lists are filtered in SQL for their reader with the same rules as
/// ``ContentAccess`` (one test compares the two); single look-ups return the row and the
/// service applies ``ContentAccess``.
public struct ContentRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    /// The SQL condition for "`reader` may read this announcement/article" (``ContentAccess/canRead``).
    static func readable(by reader: ContentReader, now: Date, publishedAt: SQL?) -> SQL {
        switch reader {
        case .staff: return "1 = 1"
        case .client:
            guard let publishedAt else { return "published = \(true)" }
            return "published = \(true) AND \(publishedAt) <= \(now)"
        case .visitor:
            guard let publishedAt else { return "published = \(true) AND audience = 'public'" }
            return "published = \(true) AND \(publishedAt) <= \(now) AND audience = 'public'"
        }
    }

    // MARK: Announcements

    public func insert(_ a: Announcement) async throws {
        try await db.query("""
            INSERT INTO announcements (id, title, body, audience, published, published_at, created_at, updated_at)
            VALUES (\(a.id), \(a.title), \(a.body), \(a.audience.rawValue), \(a.published), \(a.publishedAt), \(a.createdAt), \(a.updatedAt))
            """)
    }

    public func update(_ a: Announcement) async throws -> Bool {
        !(try await db.query("""
            UPDATE announcements SET title = \(a.title), body = \(a.body), audience = \(a.audience.rawValue), published = \(a.published),
                published_at = \(a.publishedAt), updated_at = \(a.updatedAt)
            WHERE id = \(a.id) RETURNING id
            """)).isEmpty
    }

    public func deleteAnnouncement(id: UUID) async throws -> Bool {
        !(try await db.query("DELETE FROM announcements WHERE id = \(id) RETURNING id")).isEmpty
    }

    public func announcement(id: UUID) async throws -> Announcement? {
        try await db.first("SELECT * FROM announcements WHERE id = \(id)").map(Self.announcement)
    }

    /// Where an announcement stands for its readers: the announcement lists' `state` filter.
    /// `scheduled`: published with a date still to come.
    public enum State: String, Sendable, CaseIterable {
        case published, scheduled, draft
    }

    /// The article lists' `state` filter: articles have no publication date, so none is scheduled.
    public enum ArticleState: String, Sendable, CaseIterable {
        case published, draft
    }

    /// What the announcement lists can be sorted by (the allow-list): newest first by default.
    public static let announcementSortColumns = SortableColumns([
        .init("published", "published_at", first: .desc), .init("title", "LOWER(title)"), .init("audience", "audience"),
        .init("state", "CASE WHEN published THEN 0 ELSE 1 END"), .init("updated", "updated_at", first: .desc),
    ], default: ListSort("published", .desc), tieBreaker: "id")

    /// Newest first unless `sort` says otherwise, only those `reader` may read, optionally only
    /// those in `state` (as of `now`).
    public func announcements(for reader: ContentReader, now: Date, state: State? = nil, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Announcement] {
        var conditions: [SQL] = [Self.readable(by: reader, now: now, publishedAt: "published_at")]
        switch state {
        case nil: break
        case .published?: conditions.append("published = \(true) AND published_at <= \(now)")
        case .scheduled?: conditions.append("published = \(true) AND published_at > \(now)")
        case .draft?: conditions.append("published = \(false)")
        }
        return try await db.query("""
            SELECT * FROM announcements WHERE \(SQL.joined(conditions, separator: " AND "))
            ORDER BY \(Self.announcementSortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.announcement)
    }

    static func announcement(_ row: SQLRow) throws -> Announcement {
        Announcement(
            id: try row.uuid("id"), title: try row.string("title"), body: try row.string("body"), audience: try audience(row),
            published: try row.bool("published"), publishedAt: try row.date("published_at"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }

    static func audience(_ row: SQLRow) throws -> ContentAudience {
        guard let audience = ContentAudience(rawValue: try row.string("audience")) else { throw DatabaseError(.decoding, message: "unknown audience") }
        return audience
    }

    // MARK: Knowledge base

    public func insert(_ c: KBCategory) async throws {
        do {
            try await db.query("""
                INSERT INTO kb_categories (id, name, slug, description, created_at) VALUES (\(c.id), \(c.name), \(c.slug), \(c.description), \(c.createdAt))
                """)
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw SupportError(.conflict, "another category already has the slug \(c.slug)", field: "slug")
        }
    }

    public func update(_ c: KBCategory) async throws -> Bool {
        do {
            return !(try await db.query("""
                UPDATE kb_categories SET name = \(c.name), slug = \(c.slug), description = \(c.description) WHERE id = \(c.id) RETURNING id
                """)).isEmpty
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw SupportError(.conflict, "another category already has the slug \(c.slug)", field: "slug")
        }
    }

    /// Deletes an empty category (409 while it holds articles).
    public func deleteCategory(id: UUID) async throws -> Bool {
        if try await db.first("SELECT id FROM kb_articles WHERE category_id = \(id) LIMIT 1") != nil {
            throw SupportError(.conflict, "the category still holds articles; move or delete them first")
        }
        return !(try await db.query("DELETE FROM kb_categories WHERE id = \(id) RETURNING id")).isEmpty
    }

    public func category(id: UUID) async throws -> KBCategory? {
        try await db.first("SELECT * FROM kb_categories WHERE id = \(id)").map(Self.category)
    }

    /// Every category by name, with how many articles `reader` may read in each.
    public func categories(for reader: ContentReader, now: Date) async throws -> [(KBCategory, Int64)] {
        try await db.query("""
            SELECT c.*, (SELECT COUNT(*) FROM kb_articles WHERE category_id = c.id AND \(Self.readable(by: reader, now: now, publishedAt: nil))) AS articles
            FROM kb_categories c ORDER BY c.name, c.id LIMIT \(ShortList.limit)
            """).map { (try Self.category($0), try $0.int("articles")) }
    }

    static func category(_ row: SQLRow) throws -> KBCategory {
        KBCategory(id: try row.uuid("id"), name: try row.string("name"), slug: try row.string("slug"), description: try row.string("description"), createdAt: try row.date("created_at"))
    }

    public func insert(_ a: KBArticle) async throws {
        do {
            try await db.query("""
                INSERT INTO kb_articles (id, category_id, title, title_lower, slug, body, audience, published, created_at, updated_at)
                VALUES (\(a.id), \(a.categoryID), \(a.title), \(a.title.lowercased()), \(a.slug), \(a.body), \(a.audience.rawValue), \(a.published), \(a.createdAt), \(a.updatedAt))
                """)
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw SupportError(.conflict, "another article already has the slug \(a.slug)", field: "slug")
        }
    }

    public func update(_ a: KBArticle) async throws -> Bool {
        do {
            return !(try await db.query("""
                UPDATE kb_articles SET category_id = \(a.categoryID), title = \(a.title), title_lower = \(a.title.lowercased()), slug = \(a.slug), body = \(a.body),
                    audience = \(a.audience.rawValue), published = \(a.published), updated_at = \(a.updatedAt)
                WHERE id = \(a.id) RETURNING id
                """)).isEmpty
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            throw SupportError(.conflict, "another article already has the slug \(a.slug)", field: "slug")
        }
    }

    public func deleteArticle(id: UUID) async throws -> Bool {
        !(try await db.query("DELETE FROM kb_articles WHERE id = \(id) RETURNING id")).isEmpty
    }

    public func article(id: UUID) async throws -> KBArticle? {
        try await db.first("SELECT * FROM kb_articles WHERE id = \(id)").map(Self.article)
    }

    public func article(slug: String) async throws -> KBArticle? {
        try await db.first("SELECT * FROM kb_articles WHERE slug = \(slug)").map(Self.article)
    }

    /// What the article lists can be sorted by (the allow-list): by title by default.
    public static let articleSortColumns = SortableColumns([
        .init("title", "title_lower"), .init("category", "LOWER((SELECT c.name FROM kb_categories c WHERE c.id = kb_articles.category_id))"),
        .init("audience", "audience"), .init("state", "CASE WHEN published THEN 0 ELSE 1 END"), .init("updated", "updated_at", first: .desc),
    ], default: ListSort("title", .asc), tieBreaker: "id")

    /// Articles `reader` may read, by title unless `sort` says otherwise: in one category and/or
    /// whose title contains `search` (case-insensitive; `%` and `_` match themselves), optionally
    /// only published ones or only drafts.
    public func articles(
        for reader: ContentReader, now: Date, categoryID: UUID?, search: String?, state: ArticleState? = nil, sort: ListSort? = nil, limit: Int, offset: Int
    ) async throws -> [KBArticle] {
        var conditions: [SQL] = [Self.readable(by: reader, now: now, publishedAt: nil)]
        if let state { conditions.append("published = \(state == .published)") }
        if let categoryID { conditions.append("category_id = \(categoryID)") }
        if let search, !search.isEmpty {
            let escaped = search.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            conditions.append("title_lower LIKE \("%" + escaped + "%") ESCAPE '\\'")
        }
        return try await db.query("""
            SELECT * FROM kb_articles WHERE \(SQL.joined(conditions, separator: " AND "))
            ORDER BY \(Self.articleSortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.article)
    }

    static func article(_ row: SQLRow) throws -> KBArticle {
        KBArticle(
            id: try row.uuid("id"), categoryID: try row.uuid("category_id"), title: try row.string("title"), slug: try row.string("slug"),
            body: try row.string("body"), audience: try audience(row), published: try row.bool("published"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }

    /// Refuses (409) a new category of `list` once it holds ``ShortList/limit``; inside the
    /// creating transaction (``ShortList/requireRoom(in:refusing:)``).
    public func requireRoom(in list: ShortList) async throws {
        try await list.requireRoom(in: db, refusing: SupportErrorKind.self)
    }

    // MARK: Downloads

    public func insert(_ c: DownloadCategory) async throws {
        try await db.query("INSERT INTO download_categories (id, name, description, created_at) VALUES (\(c.id), \(c.name), \(c.description), \(c.createdAt))")
    }

    public func downloadCategory(id: UUID) async throws -> DownloadCategory? {
        try await db.first("SELECT * FROM download_categories WHERE id = \(id)").map(Self.downloadCategory)
    }

    public func downloadCategories() async throws -> [DownloadCategory] {
        try await db.query("SELECT * FROM download_categories ORDER BY name, id LIMIT \(ShortList.limit)").map(Self.downloadCategory)
    }

    /// Deletes an empty category (409 while it holds files).
    public func deleteDownloadCategory(id: UUID) async throws -> Bool {
        if try await db.first("SELECT id FROM downloads WHERE category_id = \(id) LIMIT 1") != nil {
            throw SupportError(.conflict, "the category still holds files; delete them first")
        }
        return !(try await db.query("DELETE FROM download_categories WHERE id = \(id) RETURNING id")).isEmpty
    }

    static func downloadCategory(_ row: SQLRow) throws -> DownloadCategory {
        DownloadCategory(id: try row.uuid("id"), name: try row.string("name"), description: try row.string("description"), createdAt: try row.date("created_at"))
    }

    public func insert(_ d: Download) async throws {
        try await db.query("""
            INSERT INTO downloads (id, category_id, file_id, title, description, filename, size, sha256, content_type, visibility, product_id, download_count, created_at)
            VALUES (\(d.id), \(d.categoryID), \(d.fileID), \(d.title), \(d.description), \(d.filename), \(d.size), \(d.sha256), \(d.contentType),
                    \(d.visibility.rawValue), \(d.productID), \(d.downloadCount), \(d.createdAt))
            """)
    }

    /// Changes what staff may change of a file: its category, title, description and visibility.
    public func update(_ d: Download) async throws -> Bool {
        !(try await db.query("""
            UPDATE downloads SET category_id = \(d.categoryID), title = \(d.title), description = \(d.description), visibility = \(d.visibility.rawValue),
                product_id = \(d.productID)
            WHERE id = \(d.id) RETURNING id
            """)).isEmpty
    }

    public func deleteDownload(id: UUID) async throws {
        try await db.query("DELETE FROM downloads WHERE id = \(id)")
    }

    public func download(id: UUID) async throws -> Download? {
        try await db.first("SELECT * FROM downloads WHERE id = \(id)").map(Self.download)
    }

    /// What the download lists can be sorted by (the allow-list): by title by default.
    public static let downloadSortColumns = SortableColumns([
        .init("title", "LOWER(title)"), .init("category", "LOWER((SELECT c.name FROM download_categories c WHERE c.id = downloads.category_id))"),
        .init("visibility", "visibility"), .init("size", "size", first: .desc), .init("downloads", "download_count", first: .desc),
        .init("created", "created_at", first: .desc),
    ], default: ListSort("title", .asc), tieBreaker: "id")

    /// The files `reader` may download (``ContentAccess/canDownload``), optionally in one category
    /// and/or of one visibility, by title unless `sort` says otherwise.
    public func downloads(
        for reader: ContentReader, categoryID: UUID?, visibility: DownloadVisibility? = nil, sort: ListSort? = nil, limit: Int, offset: Int
    ) async throws -> [Download] {
        var conditions: [SQL] = []
        switch reader {
        case .staff: break
        case .visitor: conditions.append("visibility = 'public'")
        case .client(let client):
            conditions.append("""
                (visibility IN ('public', 'logged_in') OR EXISTS (
                    SELECT 1 FROM services s WHERE s.client_id = \(client) AND s.product_id = downloads.product_id AND s.status = 'active'))
                """)
        }
        if let categoryID { conditions.append("category_id = \(categoryID)") }
        if let visibility { conditions.append("visibility = \(visibility.rawValue)") }
        let filter: SQL = conditions.isEmpty ? "" : "WHERE \(SQL.joined(conditions, separator: " AND "))"
        return try await db.query("""
            SELECT * FROM downloads \(filter) ORDER BY \(Self.downloadSortColumns.orderBy(sort)) LIMIT \(limit) OFFSET \(offset)
            """).map(Self.download)
    }

    /// Whether `client` has an active service of `product` (what `product` visibility asks).
    public func ownsActiveService(client: UUID, product: UUID) async throws -> Bool {
        try await db.first("SELECT id FROM services WHERE client_id = \(client) AND product_id = \(product) AND status = 'active' LIMIT 1") != nil
    }

    public func productExists(_ id: UUID) async throws -> Bool {
        try await db.first("SELECT id FROM products WHERE id = \(id)") != nil
    }

    /// Counts one download: a single atomic `UPDATE`, so downloads at once on any number of
    /// nodes each count exactly once.
    public func countDownload(id: UUID) async throws {
        try await db.query("UPDATE downloads SET download_count = download_count + 1 WHERE id = \(id)")
    }

    static func download(_ row: SQLRow) throws -> Download {
        guard let visibility = DownloadVisibility(rawValue: try row.string("visibility")) else { throw DatabaseError(.decoding, message: "unknown download visibility") }
        return Download(
            id: try row.uuid("id"), categoryID: try row.uuid("category_id"), fileID: try row.uuid("file_id"), title: try row.string("title"),
            description: try row.string("description"), filename: try row.string("filename"), size: try row.int("size"), sha256: try row.string("sha256"),
            contentType: try row.string("content_type"), visibility: visibility, productID: try row.optionalUUID("product_id"),
            downloadCount: try row.int("download_count"), createdAt: try row.date("created_at")
        )
    }
}
