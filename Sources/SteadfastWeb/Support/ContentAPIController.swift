import Foundation
import HTTPTypes
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The support content's JSON API (docs/content.md): announcements, the knowledge base and the
/// downloads library under `/api/v1` for every reader (visitors included; what the reader may not
/// see is a 404), and staff changes under `/api/v1/admin` behind ``RequirePermission``
/// (`support.reply`, what ``ContentService`` asks too).
struct ContentAPIController: Sendable {
    let content: ContentService

    struct AnnouncementInput: Decodable {
        let title: String
        let body: String
        let audience: String?
        let published: Bool?
        let publishedAt: String?
    }

    struct CategoryInput: Decodable {
        let name: String
        let slug: String?
        let description: String?
    }

    struct ArticleInput: Decodable {
        let categoryId: UUID
        let title: String
        let slug: String?
        let body: String
        let audience: String?
        let published: Bool?
    }

    struct DownloadInput: Decodable {
        let categoryId: UUID
        let title: String?
        let description: String?
        let visibility: String?
        let productId: UUID?
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        api.get("announcements", use: announcements)
        api.get("announcements/{id}", use: announcement)
        api.get("kb/categories", use: categories)
        api.get("kb/articles", use: articles)
        api.get("kb/articles/{id}", use: article)
        api.get("downloads/categories", use: downloadCategories)
        api.get("downloads", use: downloads)
        api.get("downloads/{id}", use: download)
        api.get("downloads/{id}/content", use: downloadContent)

        let admin = api.group("admin").add(middleware: RequirePermission(.supportReply))
        admin.post("announcements", use: createAnnouncement)
        admin.put("announcements/{id}", use: updateAnnouncement)
        admin.delete("announcements/{id}", use: deleteAnnouncement)
        admin.post("kb/categories", use: createCategory)
        admin.put("kb/categories/{id}", use: updateCategory)
        admin.delete("kb/categories/{id}", use: deleteCategory)
        admin.post("kb/articles", use: createArticle)
        admin.put("kb/articles/{id}", use: updateArticle)
        admin.delete("kb/articles/{id}", use: deleteArticle)
        admin.post("downloads/categories", use: createDownloadCategory)
        admin.delete("downloads/categories/{id}", use: deleteDownloadCategory)
        admin.post("downloads", use: upload)
        admin.put("downloads/{id}", use: updateDownload)
        admin.delete("downloads/{id}", use: deleteDownload)
    }

    // MARK: Everyone

    @Sendable func announcements(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: ContentViews.AnnouncementView.init) {
            try await content.announcements(
                for: ContentWeb.reader(context), state: try ListChoice<ContentRepository.State>(request, "state").selected,
                sort: try ListSorting.parse(request, columns: ContentRepository.announcementSortColumns), limit: $0, offset: $1
            )
        }
    }

    @Sendable func announcement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "announcement")
        return try context.responseEncoder.encode(ContentViews.AnnouncementView(try await content.announcement(id: id, for: ContentWeb.reader(context))), from: request, context: context)
    }

    @Sendable func categories(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let found = try await content.categories(for: ContentWeb.reader(context))
        return try context.responseEncoder.encode(["items": found.map { ContentViews.CategoryView($0.category, articles: $0.articles) }], from: request, context: context)
    }

    /// `GET /api/v1/kb/articles?category_id=&q=&state=&sort=&dir=&limit=&offset=`: by title unless
    /// `sort` says otherwise; `q` searches titles.
    @Sendable func articles(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: { ContentViews.ArticleView($0, full: false) }) {
            try await content.articles(
                for: ContentWeb.reader(context), categoryID: try Self.queryID(request, "category_id"), search: request.uri.queryParameters.get("q"),
                state: try ListChoice<ContentRepository.ArticleState>(request, "state").selected, sort: try ListSorting.parse(request, columns: ContentRepository.articleSortColumns),
                limit: $0, offset: $1
            )
        }
    }

    @Sendable func article(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "article")
        return try context.responseEncoder.encode(ContentViews.ArticleView(try await content.article(id: id, for: ContentWeb.reader(context)), full: true), from: request, context: context)
    }

    @Sendable func downloadCategories(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try context.responseEncoder.encode(["items": try await content.downloadCategories().map(ContentViews.DownloadCategoryView.init)], from: request, context: context)
    }

    @Sendable func downloads(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await context.pagedJSON(request, item: ContentViews.DownloadView.init) {
            try await content.downloads(
                for: ContentWeb.reader(context), categoryID: try Self.queryID(request, "category_id"), visibility: try ListChoice<DownloadVisibility>(request, "visibility").selected,
                sort: try ListSorting.parse(request, columns: ContentRepository.downloadSortColumns), limit: $0, offset: $1
            )
        }
    }

    @Sendable func download(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "download")
        return try context.responseEncoder.encode(ContentViews.DownloadView(try await content.download(id: id, for: ContentWeb.reader(context))), from: request, context: context)
    }

    @Sendable func downloadContent(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let download = try await content.download(id: try Self.id(context, "download"), for: ContentWeb.reader(context))
        return try await ContentWeb.serve(download, content: content, request: request)
    }

    // MARK: Staff

    @Sendable func createAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await Self.announcementInput(request, context: context)
        let created = try await content.createAnnouncement(by: try context.requireAccount(), input)
        return try context.responseEncoder.encode(ContentViews.AnnouncementView(created), status: .created, from: request, context: context)
    }

    @Sendable func updateAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "announcement")
        let input = try await Self.announcementInput(request, context: context)
        return try context.responseEncoder.encode(ContentViews.AnnouncementView(try await content.updateAnnouncement(by: try context.requireAccount(), id: id, input)), from: request, context: context)
    }

    static func announcementInput(_ request: Request, context: PortalRequestContext) async throws -> ContentService.AnnouncementInput {
        let input = try await request.decode(as: AnnouncementInput.self, context: context)
        return ContentService.AnnouncementInput(
            title: input.title, body: input.body, audience: try ContentAudience(parsing: input.audience), published: input.published ?? true,
            publishedAt: try input.publishedAt.map { try date($0, field: "published_at") }
        )
    }

    /// An ISO 8601 date-time (`2026-12-06T10:00:00Z`) or a day (`2026-12-06`, midnight UTC).
    static func date(_ text: String, field: String) throws -> Date {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return date }
        throw SupportError.invalid("\(field) must be a date such as 2026-12-06 or 2026-12-06T10:00:00Z", field: field)
    }

    @Sendable func deleteAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteAnnouncement(by: try context.requireAccount(), id: try Self.id(context, "announcement"))
        return Response(status: .noContent)
    }

    @Sendable func createCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: CategoryInput.self, context: context)
        let created = try await content.createCategory(by: try context.requireAccount(), name: input.name, slug: input.slug, description: input.description)
        return try context.responseEncoder.encode(ContentViews.CategoryView(created), status: .created, from: request, context: context)
    }

    @Sendable func updateCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "category")
        let input = try await request.decode(as: CategoryInput.self, context: context)
        return try context.responseEncoder.encode(ContentViews.CategoryView(try await content.updateCategory(by: try context.requireAccount(), id: id, name: input.name, slug: input.slug, description: input.description)), from: request, context: context)
    }

    @Sendable func deleteCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteCategory(by: try context.requireAccount(), id: try Self.id(context, "category"))
        return Response(status: .noContent)
    }

    static func articleInput(_ request: Request, context: PortalRequestContext) async throws -> ContentService.ArticleInput {
        let input = try await request.decode(as: ArticleInput.self, context: context)
        return ContentService.ArticleInput(
            categoryID: input.categoryId, title: input.title, slug: input.slug, body: input.body, audience: try ContentAudience(parsing: input.audience),
            published: input.published ?? true
        )
    }

    @Sendable func createArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await Self.articleInput(request, context: context)
        return try context.responseEncoder.encode(ContentViews.ArticleView(try await content.createArticle(by: try context.requireAccount(), input), full: true), status: .created, from: request, context: context)
    }

    @Sendable func updateArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "article")
        let input = try await Self.articleInput(request, context: context)
        return try context.responseEncoder.encode(ContentViews.ArticleView(try await content.updateArticle(by: try context.requireAccount(), id: id, input), full: true), from: request, context: context)
    }

    @Sendable func deleteArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteArticle(by: try context.requireAccount(), id: try Self.id(context, "article"))
        return Response(status: .noContent)
    }

    @Sendable func createDownloadCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let input = try await request.decode(as: CategoryInput.self, context: context)
        let created = try await content.createDownloadCategory(by: try context.requireAccount(), name: input.name, description: input.description)
        return try context.responseEncoder.encode(ContentViews.DownloadCategoryView(created), status: .created, from: request, context: context)
    }

    @Sendable func deleteDownloadCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteDownloadCategory(by: try context.requireAccount(), id: try Self.id(context, "category"))
        return Response(status: .noContent)
    }

    /// `POST /api/v1/admin/downloads?category_id=&title=&description=&visibility=&product_id=`:
    /// the raw bytes as the body with `Content-Length`, `Content-Type` and `X-Upload-Filename`
    /// (percent-encoded UTF-8) → 201 with the download.
    @Sendable func upload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        guard let rawName = request.headers[FilesAPIController.filenameHeader] else {
            throw SupportError.invalid("send the file name in the X-Upload-Filename header", field: "filename")
        }
        guard let length = request.headers[.contentLength].flatMap(Int64.init), length >= 0 else {
            throw HTTPError(.lengthRequired, message: "uploads need a Content-Length header")
        }
        let query = request.uri.queryParameters
        guard let category = try Self.queryID(request, "category_id") else { throw SupportError.invalid("category_id is required", field: "category_id") }
        let input = ContentService.DownloadInput(
            categoryID: category, title: query.get("title"), description: query.get("description"),
            visibility: try DownloadVisibility(parsing: query.get("visibility")), productID: try Self.queryID(request, "product_id")
        )
        let download = try await content.upload(
            by: staff, input, filename: rawName.removingPercentEncoding ?? rawName, contentType: request.headers[.contentType], declaredSize: length, body: request.body
        )
        return try context.responseEncoder.encode(ContentViews.DownloadView(download), status: .created, from: request, context: context)
    }

    @Sendable func updateDownload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let id = try Self.id(context, "download")
        let input = try await request.decode(as: DownloadInput.self, context: context)
        let updated = try await content.updateDownload(by: try context.requireAccount(), id: id, .init(
            categoryID: input.categoryId, title: input.title, description: input.description, visibility: try DownloadVisibility(parsing: input.visibility), productID: input.productId
        ))
        return try context.responseEncoder.encode(ContentViews.DownloadView(updated), from: request, context: context)
    }

    @Sendable func deleteDownload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteDownload(by: try context.requireAccount(), id: try Self.id(context, "download"))
        return Response(status: .noContent)
    }

    // MARK: Parameters

    /// The id in the path; a malformed one is a 404 like an unknown one.
    static func id(_ context: PortalRequestContext, _ what: String) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw SupportError.notFound(what) }
        return id
    }

    /// An optional id in the query string (400 naming it when malformed).
    static func queryID(_ request: Request, _ name: String) throws -> UUID? {
        guard let text = request.uri.queryParameters.get(name), !text.isEmpty else { return nil }
        guard let id = UUID(uuidString: text) else { throw InvalidParameter(name: name, message: "\(name) must be an id") }
        return id
    }
}
