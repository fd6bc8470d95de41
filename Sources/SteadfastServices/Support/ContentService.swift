import Foundation
import Ink
import Logging
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastStorage

/// Markdown to HTML that is safe to put in a page: rendered by Ink, then re-written by
/// ``HTMLSanitizer`` (Ink passes raw HTML and `javascript:` links through unchanged).
public enum SafeMarkdown {
    public static func html(_ markdown: String) -> String {
        HTMLSanitizer.sanitize(MarkdownParser().html(from: markdown))
    }
}

/// The support content: announcements, the knowledge base and the downloads library
/// (docs/content.md). Visibility is enforced here, whatever the caller: what a reader may not
/// see is `notFound`, exactly like what does not exist; changes are for staff (`forbidden`).
public struct ContentService: Sendable {
    let database: any SQLDatabase
    public let files: FileService
    /// `support.download_max_size`: the largest file of the downloads library.
    public let maxDownloadSize: Int64
    let clock: any WallClock
    let logger: Logger

    public init(database: any SQLDatabase, files: FileService, maxDownloadSize: Int64, clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.database = database
        self.files = files
        self.maxDownloadSize = maxDownloadSize
        self.clock = clock
        self.logger = logger
    }

    var repository: ContentRepository { ContentRepository(database) }

    /// Makes a content change and records its event (`content.created`/`updated`/`deleted`, the
    /// object type saying what) in one transaction: a change that fails records nothing.
    @discardableResult
    func audited<T: Sendable>(
        _ action: AuditAction, _ type: String, _ id: UUID, before: [String: String] = [:], after: [String: String] = [:],
        _ change: @escaping @Sendable (ContentRepository) async throws -> T
    ) async throws -> T {
        let now = clock.now()
        return try await database.transaction { tx in
            let result = try await change(ContentRepository(tx))
            try await AuditTrail.record(tx, action, object: AuditObject(type, id), before: before, after: after, now: now)
            return result
        }
    }

    /// The one way staff change a piece of content: staff only; the item as stored (404 naming
    /// `what` without it); `change` applied to it; the row updated (404 if it went meanwhile) and
    /// `content.updated` recorded for `type` with the item's fields before and after, in one
    /// transaction.
    func edit<Item: Sendable>(
        by actor: Account, _ type: String, _ what: String, id: UUID,
        find: (ContentRepository) async throws -> Item?, fields: (Item) -> [String: String],
        update: @escaping @Sendable (ContentRepository, Item) async throws -> Bool,
        _ change: (inout Item) async throws -> Void
    ) async throws -> Item {
        try SupportError.requireStaff(actor)
        guard var item = try await find(repository) else { throw SupportError.notFound(what) }
        let before = fields(item)
        try await change(&item)
        let changed = item
        try await audited(.contentUpdated, type, id, before: before, after: fields(changed)) {
            guard try await update($0, changed) else { throw SupportError.notFound(what) }
        }
        return changed
    }

    /// The one way staff delete a piece of content (a download, with its file, has its own):
    /// staff only; the row deleted (404 naming `what` if there was none) and `content.deleted`
    /// recorded for `type` with the fields it had, in one transaction.
    func remove<Item>(
        by actor: Account, _ type: String, _ what: String, id: UUID,
        find: (ContentRepository) async throws -> Item?, fields: (Item) -> [String: String],
        delete: @escaping @Sendable (ContentRepository) async throws -> Bool
    ) async throws {
        try SupportError.requireStaff(actor)
        let before = try await find(repository).map(fields) ?? [:]
        try await audited(.contentDeleted, type, id, before: before) {
            guard try await delete($0) else { throw SupportError.notFound(what) }
        }
    }

    static func fields(_ a: Announcement) -> [String: String] {
        ["title": a.title, "audience": a.audience.rawValue, "published": String(a.published)]
    }

    static func fields(_ c: KBCategory) -> [String: String] {
        ["name": c.name, "slug": c.slug]
    }

    static func fields(_ a: KBArticle) -> [String: String] {
        ["title": a.title, "slug": a.slug, "category_id": a.categoryID.uuidString.lowercased(), "audience": a.audience.rawValue, "published": String(a.published)]
    }

    static func fields(_ d: Download) -> [String: String] {
        [
            "title": d.title, "filename": d.filename, "category_id": d.categoryID.uuidString.lowercased(), "visibility": d.visibility.rawValue,
            "product_id": d.productID?.uuidString.lowercased() ?? "",
        ]
    }

    // MARK: Announcements

    public struct AnnouncementInput: Sendable {
        public var title: String
        public var body: String
        public var audience: ContentAudience
        public var published: Bool
        /// Nil: now (when created), unchanged (when edited).
        public var publishedAt: Date?
        public init(title: String, body: String, audience: ContentAudience, published: Bool, publishedAt: Date? = nil) {
            self.title = title
            self.body = body
            self.audience = audience
            self.published = published
            self.publishedAt = publishedAt
        }
    }

    public func createAnnouncement(by actor: Account, _ input: AnnouncementInput) async throws -> Announcement {
        try SupportError.requireStaff(actor)
        let now = clock.now()
        let announcement = Announcement(
            id: UUID(), title: try ContentText.title(input.title), body: try ContentText.body(input.body), audience: input.audience,
            published: input.published, publishedAt: input.publishedAt ?? now, createdAt: now, updatedAt: now
        )
        try await audited(.contentCreated, "announcement", announcement.id, after: Self.fields(announcement)) { try await $0.insert(announcement) }
        return announcement
    }

    public func updateAnnouncement(by actor: Account, id: UUID, _ input: AnnouncementInput) async throws -> Announcement {
        try await edit(by: actor, "announcement", "announcement", id: id, find: { try await $0.announcement(id: id) }, fields: { Self.fields($0) }, update: { try await $0.update($1) }) { announcement in
            announcement.title = try ContentText.title(input.title)
            announcement.body = try ContentText.body(input.body)
            announcement.audience = input.audience
            announcement.published = input.published
            announcement.publishedAt = input.publishedAt ?? announcement.publishedAt
            announcement.updatedAt = clock.now()
        }
    }

    public func deleteAnnouncement(by actor: Account, id: UUID) async throws {
        try await remove(by: actor, "announcement", "announcement", id: id, find: { try await $0.announcement(id: id) }, fields: { Self.fields($0) }) { try await $0.deleteAnnouncement(id: id) }
    }

    /// Announcements `reader` may read, newest first unless `sort` (``ContentRepository/announcementSortColumns``)
    /// says otherwise, optionally only those in `state`.
    public func announcements(for reader: ContentReader, state: ContentRepository.State? = nil, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [Announcement] {
        try await repository.announcements(for: reader, now: clock.now(), state: state, sort: sort, limit: limit, offset: offset)
    }

    /// Where `announcement` stands now: a draft, scheduled (published with a date to come) or published.
    public func state(of announcement: Announcement) -> ContentRepository.State {
        !announcement.published ? .draft : announcement.publishedAt > clock.now() ? .scheduled : .published
    }

    public func announcement(id: UUID, for reader: ContentReader) async throws -> Announcement {
        guard let announcement = try await repository.announcement(id: id),
              ContentAccess.canRead(audience: announcement.audience, published: announcement.published, publishedAt: announcement.publishedAt, reader: reader, now: clock.now())
        else { throw SupportError.notFound("announcement") }
        return announcement
    }

    // MARK: Knowledge base

    public func createCategory(by actor: Account, name: String, slug: String?, description: String?) async throws -> KBCategory {
        try SupportError.requireStaff(actor)
        let name = try ContentText.title(name, field: "name")
        let category = KBCategory(id: UUID(), name: name, slug: try ContentText.slug(slug, from: name), description: try ContentText.description(description), createdAt: clock.now())
        try await audited(.contentCreated, "kb_category", category.id, after: Self.fields(category)) { repository in
            try await repository.requireRoom(in: .kbCategories)
            try await repository.insert(category)
        }
        return category
    }

    public func updateCategory(by actor: Account, id: UUID, name: String, slug: String?, description: String?) async throws -> KBCategory {
        try await edit(by: actor, "kb_category", "category", id: id, find: { try await $0.category(id: id) }, fields: { Self.fields($0) }, update: { try await $0.update($1) }) { category in
            category.name = try ContentText.title(name, field: "name")
            category.slug = try ContentText.slug(slug, from: category.name)
            category.description = try ContentText.description(description)
        }
    }

    public func deleteCategory(by actor: Account, id: UUID) async throws {
        try await remove(by: actor, "kb_category", "category", id: id, find: { try await $0.category(id: id) }, fields: { Self.fields($0) }) { try await $0.deleteCategory(id: id) }
    }

    /// Every category (they are all public), each with the number of articles `reader` may read.
    public func categories(for reader: ContentReader) async throws -> [(category: KBCategory, articles: Int64)] {
        try await repository.categories(for: reader, now: clock.now()).map { ($0.0, $0.1) }
    }

    public func category(id: UUID) async throws -> KBCategory {
        guard let category = try await repository.category(id: id) else { throw SupportError.notFound("category") }
        return category
    }

    public struct ArticleInput: Sendable {
        public var categoryID: UUID
        public var title: String
        public var slug: String?
        public var body: String
        public var audience: ContentAudience
        public var published: Bool
        public init(categoryID: UUID, title: String, slug: String?, body: String, audience: ContentAudience, published: Bool) {
            self.categoryID = categoryID
            self.title = title
            self.slug = slug
            self.body = body
            self.audience = audience
            self.published = published
        }
    }

    public func createArticle(by actor: Account, _ input: ArticleInput) async throws -> KBArticle {
        try SupportError.requireStaff(actor)
        let title = try ContentText.title(input.title)
        let now = clock.now()
        let article = KBArticle(
            id: UUID(), categoryID: input.categoryID, title: title, slug: try ContentText.slug(input.slug, from: title), body: try ContentText.body(input.body),
            audience: input.audience, published: input.published, createdAt: now, updatedAt: now
        )
        guard try await repository.category(id: input.categoryID) != nil else { throw SupportError(.notFound, "category not found", field: "category_id") }
        try await audited(.contentCreated, "kb_article", article.id, after: Self.fields(article)) { try await $0.insert(article) }
        return article
    }

    public func updateArticle(by actor: Account, id: UUID, _ input: ArticleInput) async throws -> KBArticle {
        try await edit(by: actor, "kb_article", "article", id: id, find: { try await $0.article(id: id) }, fields: { Self.fields($0) }, update: { try await $0.update($1) }) { article in
            guard try await repository.category(id: input.categoryID) != nil else { throw SupportError(.notFound, "category not found", field: "category_id") }
            article.categoryID = input.categoryID
            article.title = try ContentText.title(input.title)
            article.slug = try ContentText.slug(input.slug, from: article.title)
            article.body = try ContentText.body(input.body)
            article.audience = input.audience
            article.published = input.published
            article.updatedAt = clock.now()
        }
    }

    public func deleteArticle(by actor: Account, id: UUID) async throws {
        try await remove(by: actor, "kb_article", "article", id: id, find: { try await $0.article(id: id) }, fields: { Self.fields($0) }) { try await $0.deleteArticle(id: id) }
    }

    /// Articles `reader` may read, by title unless `sort` (``ContentRepository/articleSortColumns``)
    /// says otherwise; `search` matches inside titles (at most 200 characters); `state` keeps
    /// published articles or drafts.
    public func articles(
        for reader: ContentReader, categoryID: UUID?, search: String?, state: ContentRepository.ArticleState? = nil, sort: ListSort? = nil, limit: Int, offset: Int
    ) async throws -> [KBArticle] {
        let search = search?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let search, search.count > 200 { throw SupportError.invalid("the search may be at most 200 characters long", field: "q") }
        return try await repository.articles(for: reader, now: clock.now(), categoryID: categoryID, search: search, state: state, sort: sort, limit: limit, offset: offset)
    }

    public func article(id: UUID, for reader: ContentReader) async throws -> KBArticle {
        try readable(try await repository.article(id: id), by: reader)
    }

    public func article(slug: String, for reader: ContentReader) async throws -> KBArticle {
        try readable(try await repository.article(slug: slug), by: reader)
    }

    func readable(_ article: KBArticle?, by reader: ContentReader) throws -> KBArticle {
        guard let article,
              ContentAccess.canRead(audience: article.audience, published: article.published, reader: reader)
        else { throw SupportError.notFound("article") }
        return article
    }

    // MARK: Downloads

    public func createDownloadCategory(by actor: Account, name: String, description: String?) async throws -> DownloadCategory {
        try SupportError.requireStaff(actor)
        let category = DownloadCategory(id: UUID(), name: try ContentText.title(name, field: "name"), description: try ContentText.description(description), createdAt: clock.now())
        try await audited(.contentCreated, "download_category", category.id, after: ["name": category.name]) { repository in
            try await repository.requireRoom(in: .downloadCategories)
            try await repository.insert(category)
        }
        return category
    }

    public func downloadCategories() async throws -> [DownloadCategory] {
        try await repository.downloadCategories()
    }

    public func deleteDownloadCategory(by actor: Account, id: UUID) async throws {
        try await remove(by: actor, "download_category", "category", id: id, find: { try await $0.downloadCategory(id: id) }, fields: { ["name": $0.name] }) { try await $0.deleteDownloadCategory(id: id) }
    }

    /// What staff say about a file of the library.
    public struct DownloadInput: Sendable {
        public var categoryID: UUID
        public var title: String?
        public var description: String?
        public var visibility: DownloadVisibility
        public var productID: UUID?
        public init(categoryID: UUID, title: String?, description: String?, visibility: DownloadVisibility, productID: UUID?) {
            self.categoryID = categoryID
            self.title = title
            self.description = description
            self.visibility = visibility
            self.productID = productID
        }
    }

    /// Checks `input` (category and product exist; a product exactly for `product` visibility).
    func checked(_ input: DownloadInput, filename: String) async throws -> (title: String, description: String) {
        guard try await repository.downloadCategory(id: input.categoryID) != nil else { throw SupportError(.notFound, "category not found", field: "category_id") }
        switch (input.visibility, input.productID) {
        case (.product, nil): throw SupportError.invalid("product visibility needs a product_id", field: "product_id")
        case (.product, let product?):
            guard try await repository.productExists(product) else { throw SupportError(.notFound, "product not found", field: "product_id") }
        case (_, .some): throw SupportError.invalid("product_id is only for product visibility", field: "product_id")
        default: break
        }
        let title = input.title.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } ?? filename
        return (try ContentText.title(title), try ContentText.description(input.description))
    }

    /// Staff add a file: the details are checked and the declared size held to
    /// `support.download_max_size` before any byte is stored; the bytes stream into the
    /// `downloads` storage type, and the stored file and its `downloads` row are written
    /// together (a failure leaves neither). A storage outage is `storageUnavailable` (503).
    public func upload<Body: AsyncSequence & Sendable>(
        by actor: Account, _ input: DownloadInput, filename rawName: String, contentType: String?, declaredSize: Int64, body: Body
    ) async throws -> Download where Body.Element == ByteBuffer {
        try SupportError.requireStaff(actor)
        let filename = try TicketService.filename(rawName)
        guard declaredSize <= maxDownloadSize else {
            throw SupportError(.tooLarge, "files of the downloads library may be at most \(maxDownloadSize) bytes", field: "file")
        }
        let (title, description) = try await checked(input, filename: filename)
        let id = UUID()
        let now = clock.now()
        do {
            let file = try await files.upload(type: .downloads, owner: nil, filename: filename, contentType: contentType, size: declaredSize, body: body) { tx, file in
                let download = Self.download(id: id, input, title: title, description: description, file: file, now: now)
                try await ContentRepository(tx).insert(download)
                try await AuditTrail.record(tx, .contentCreated, object: AuditObject("download", id), after: Self.fields(download), now: now)
            }
            return Self.download(id: id, input, title: title, description: description, file: file, now: now)
        } catch let error as StorageError where TicketService.isOutage(error) {
            logger.warning("download not stored: storage unavailable", metadata: ["error": "\(error)"])
            throw SupportError(.storageUnavailable, "file storage is unavailable right now; nothing was stored, please try again shortly")
        } catch let error as StorageError where error.kind == .sizeMismatch {
            throw SupportError.invalid("the upload's length did not match its Content-Length; nothing was stored", field: "content_length")
        } catch let error as FileService.FileError {
            throw SupportError.invalid(error.message, field: error.kind == .invalidContentType ? "content_type" : "filename")
        }
    }

    static func download(id: UUID, _ input: DownloadInput, title: String, description: String, file: StoredFile, now: Date) -> Download {
        Download(
            id: id, categoryID: input.categoryID, fileID: file.id, title: title, description: description, filename: file.filename, size: file.size,
            sha256: file.sha256, contentType: file.contentType, visibility: input.visibility, productID: input.productID, downloadCount: 0, createdAt: now
        )
    }

    public func updateDownload(by actor: Account, id: UUID, _ input: DownloadInput) async throws -> Download {
        try await edit(by: actor, "download", "download", id: id, find: { try await $0.download(id: id) }, fields: { Self.fields($0) }, update: { try await $0.update($1) }) { download in
            let (title, description) = try await checked(input, filename: download.filename)
            download.categoryID = input.categoryID
            download.title = title
            download.description = description
            download.visibility = input.visibility
            download.productID = input.productID
        }
    }

    /// Removes the row and the stored file (every copy).
    public func deleteDownload(by actor: Account, id: UUID) async throws {
        try SupportError.requireStaff(actor)
        guard let download = try await repository.download(id: id), let file = try await files.file(id: download.fileID, owner: nil) else {
            throw SupportError.notFound("download")
        }
        let now = clock.now()
        try await files.delete(file) { tx in
            try await ContentRepository(tx).deleteDownload(id: id)
            try await AuditTrail.record(tx, .contentDeleted, object: AuditObject("download", id), before: Self.fields(download), now: now)
        }
    }

    /// Files `reader` may download, by title unless `sort` (``ContentRepository/downloadSortColumns``)
    /// says otherwise, optionally of one category and/or visibility.
    public func downloads(
        for reader: ContentReader, categoryID: UUID?, visibility: DownloadVisibility? = nil, sort: ListSort? = nil, limit: Int, offset: Int
    ) async throws -> [Download] {
        try await repository.downloads(for: reader, categoryID: categoryID, visibility: visibility, sort: sort, limit: limit, offset: offset)
    }

    /// The file if `reader` may download it; `notFound` otherwise.
    public func download(id: UUID, for reader: ContentReader) async throws -> Download {
        guard let download = try await repository.download(id: id) else { throw SupportError.notFound("download") }
        switch ContentAccess.canDownload(visibility: download.visibility, productID: download.productID, reader: reader) {
        case .allowed: return download
        case .denied: throw SupportError.notFound("download")
        case .ifOwnsProduct(let product):
            guard case .client(let client) = reader, try await repository.ownsActiveService(client: client, product: product) else {
                throw SupportError.notFound("download")
            }
            return download
        }
    }

    /// The stored file of a download `reader` may have.
    public func file(of download: Download) async throws -> StoredFile {
        guard let file = try await files.file(id: download.fileID, owner: nil) else { throw SupportError.notFound("download") }
        return file
    }

    /// Counts one download (one atomic `UPDATE`).
    public func countDownload(_ download: Download) async throws {
        try await repository.countDownload(id: download.id)
    }
}
