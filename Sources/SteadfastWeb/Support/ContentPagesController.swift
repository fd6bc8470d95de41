import Foundation
import Hummingbird
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage

/// The support content's pages (docs/content.md): `/announcements`, `/knowledgebase` and
/// `/downloads` for every reader (what the reader may not see is a 404 page), and the staff
/// page `/admin/content` with its forms, behind ``RequirePermission`` (`support.reply`, what ``ContentService`` asks too).
/// Markdown bodies are shown as ``SafeMarkdown`` HTML; every other value is escaped by the
/// templates.
struct ContentPagesController: Sendable {
    let content: ContentService
    let pages: PageRenderer

    func addRoutes(to html: RouterGroup<PortalRequestContext>) {
        html.get("announcements", use: announcements)
        html.get("announcements/{id}", use: announcement)
        html.get("knowledgebase", use: knowledgebase)
        html.get("knowledgebase/{slug}", use: article)
        html.get("downloads", use: downloads)
        html.get("downloads/{id}", use: downloadFile)

        let staff = html.group("admin").add(middleware: RequirePermission(.supportReply))
        staff.get("content", use: admin)
        staff.post("announcements", use: saveAnnouncement)
        staff.get("announcements/{id}", use: editAnnouncement)
        staff.post("announcements/{id}", use: saveAnnouncement)
        staff.post("announcements/{id}/delete", use: deleteAnnouncement)
        staff.post("kb/categories", use: createCategory)
        staff.post("kb/articles", use: saveArticle)
        staff.get("kb/articles/{id}", use: editArticle)
        staff.post("kb/articles/{id}", use: saveArticle)
        staff.post("kb/articles/{id}/delete", use: deleteArticle)
        staff.post("downloads/categories", use: createDownloadCategory)
        staff.post("downloads/upload", use: uploadDownload)
        staff.post("downloads/{id}/delete", use: deleteDownload)
    }

    static func date(_ date: Date) -> String { SupportPagesController.date(date) }

    // MARK: Everyone

    @Sendable func announcements(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let page = try PageRequest(request, defaultLimit: 20)
        let found = try await content.announcements(for: ContentWeb.reader(context), limit: page.limit, offset: page.offset)
        let rows: [[String: Any]] = found.map {
            ["id": $0.id.text, "title": $0.title, "date": Self.date($0.publishedAt), "bodyHTML": SafeMarkdown.html($0.body), "clientsOnly": $0.audience == .clients, "draft": !$0.published]
        }
        return pages.page("content/announcements", title: "Announcements", values: [
            "announcements": rows, "hasAnnouncements": !rows.isEmpty, "hasMore": found.count == page.limit, "nextOffset": page.nextOffset,
        ], context: context)
    }

    @Sendable func announcement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let found = try await content.announcement(id: try ContentAPIController.id(context, "announcement"), for: ContentWeb.reader(context))
        return pages.page("content/announcement", title: found.title, values: [
            "title": found.title, "date": Self.date(found.publishedAt), "bodyHTML": SafeMarkdown.html(found.body), "clientsOnly": found.audience == .clients,
            "draft": !found.published, "id": found.id.text, "staff": context.account?.role == .staff,
        ], context: context)
    }

    /// Categories, and the articles of one (`?category=slug`) or matching a search (`?q=`).
    @Sendable func knowledgebase(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let reader = ContentWeb.reader(context)
        let page = try context.page(request)
        let query = request.uri.queryParameters
        let categories = try await content.categories(for: reader)
        let chosen = query.get("category").flatMap { slug in categories.first { $0.category.slug == slug }?.category }
        let search = query.get("q")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var values: [String: Any] = [
            "categories": categories.map { ["name": $0.category.name, "slug": $0.category.slug, "description": $0.category.description, "articles": $0.articles, "selected": $0.category.id == chosen?.id] as [String: Any] },
            "q": search, "listing": chosen != nil || !search.isEmpty, "heading": chosen?.name ?? "Articles matching “\(search)”",
        ]
        if chosen != nil || !search.isEmpty {
            let found = try await content.articles(for: reader, categoryID: chosen?.id, search: search, limit: page.limit, offset: page.offset)
            values["articles"] = found.map { ["title": $0.title, "slug": $0.slug, "clientsOnly": $0.audience == .clients, "draft": !$0.published] as [String: Any] }
            values["hasArticles"] = !found.isEmpty
            values["hasMore"] = found.count == page.limit
            var more = "offset=\(page.nextOffset)"
            if let chosen { more += "&category=\(chosen.slug)" }
            if !search.isEmpty { more += "&q=\(search.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            values["moreQuery"] = more
        }
        return pages.page("content/knowledgebase", title: "Knowledge base", values: values, context: context)
    }

    @Sendable func article(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let slug = context.parameters.get("slug") else { throw SupportError.notFound("article") }
        let found = try await content.article(slug: slug, for: ContentWeb.reader(context))
        let category = try await content.category(id: found.categoryID)
        return pages.page("content/article", title: found.title, values: [
            "title": found.title, "bodyHTML": SafeMarkdown.html(found.body), "category": category.name, "categorySlug": category.slug,
            "updated": Self.date(found.updatedAt), "clientsOnly": found.audience == .clients, "draft": !found.published,
            "id": found.id.text, "staff": context.account?.role == .staff,
        ], context: context)
    }

    @Sendable func downloads(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let page = try context.page(request)
        let categoryID = try ContentAPIController.queryID(request, "category_id")
        let categories = try await content.downloadCategories()
        let found = try await content.downloads(for: ContentWeb.reader(context), categoryID: categoryID, limit: page.limit, offset: page.offset)
        let names = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.name) })
        return pages.page("content/downloads", title: "Downloads", values: [
            "categories": categories.map { ["id": $0.id.text, "name": $0.name, "selected": $0.id == categoryID] as [String: Any] },
            "downloads": found.map {
                ["id": $0.id.text, "title": $0.title, "description": $0.description, "filename": $0.filename, "size": $0.size, "category": names[$0.categoryID] ?? "",
                 "count": $0.downloadCount, "sha256": $0.sha256] as [String: Any]
            },
            "hasDownloads": !found.isEmpty, "hasMore": found.count == page.limit,
            "moreQuery": "offset=\(page.nextOffset)" + (categoryID.map { "&category_id=\($0.text)" } ?? ""),
        ], context: context)
    }

    @Sendable func downloadFile(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let download = try await content.download(id: try ContentAPIController.id(context, "download"), for: ContentWeb.reader(context))
        return try await ContentWeb.serve(download, content: content, request: request)
    }

    // MARK: Staff

    @Sendable func admin(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await adminPage(error: nil, status: .ok, context: context)
    }

    /// The staff page: every announcement, category, article and file (drafts too), with the
    /// forms that add them; `error` shows a refused form's reason above them.
    func adminPage(error: String?, status: HTTPResponse.Status, context: PortalRequestContext) async throws -> Response {
        let page = try PageRequest(limit: nil, offset: nil, defaultLimit: 200)
        let announcements = try await content.announcements(for: .staff, limit: page.limit, offset: 0)
        let categories = try await content.categories(for: .staff)
        let articles = try await content.articles(for: .staff, categoryID: nil, search: nil, limit: page.limit, offset: 0)
        let downloadCategories = try await content.downloadCategories()
        let downloads = try await content.downloads(for: .staff, categoryID: nil, limit: page.limit, offset: 0)
        return pages.page("content/admin", title: "Content", values: [
            "error": error ?? false,
            "announcements": announcements.map { ["id": $0.id.text, "title": $0.title, "date": Self.date($0.publishedAt), "audience": $0.audience.rawValue, "draft": !$0.published] as [String: Any] },
            "categories": categories.map { ["id": $0.category.id.text, "name": $0.category.name, "slug": $0.category.slug, "articles": $0.articles] as [String: Any] },
            "hasCategories": !categories.isEmpty,
            "articles": articles.map { ["id": $0.id.text, "title": $0.title, "slug": $0.slug, "audience": $0.audience.rawValue, "draft": !$0.published] as [String: Any] },
            "downloadCategories": downloadCategories.map { ["id": $0.id.text, "name": $0.name] },
            "hasDownloadCategories": !downloadCategories.isEmpty,
            "downloads": downloads.map { ["id": $0.id.text, "title": $0.title, "filename": $0.filename, "size": $0.size, "visibility": $0.visibility.rawValue, "count": $0.downloadCount] as [String: Any] },
            "visibilities": DownloadVisibility.allCases.map(\.rawValue), "maxDownloadSize": content.maxDownloadSize,
        ], status: status, context: context)
    }

    /// Runs a staff form's change; a refused one re-renders the page with the reason.
    func change(_ context: PortalRequestContext, redirectTo location: String = "/admin/content", _ body: () async throws -> Void) async throws -> Response {
        do {
            try await body()
            return redirect(to: location)
        } catch let error as SupportError where [.invalid, .conflict, .tooLarge, .storageUnavailable].contains(error.kind) {
            return try await adminPage(error: error.message, status: Problem(error).status, context: context)
        }
    }

    @Sendable func saveAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try SupportPagesController.account(context)
        let form = try await FormFields.read(request, context: context)
        let id = context.parameters.get("id") == nil ? nil : try ContentAPIController.id(context, "announcement")
        return try await change(context) {
            let input = ContentService.AnnouncementInput(
                title: form.values["title"] ?? "", body: form.values["body"] ?? "", audience: try ContentAudience(parsing: form["audience"]),
                published: form.flag("published"), publishedAt: try form["published_at"].map { try ContentAPIController.date($0, field: "published_at") }
            )
            if let id { _ = try await content.updateAnnouncement(by: staff, id: id, input) } else { _ = try await content.createAnnouncement(by: staff, input) }
        }
    }

    @Sendable func editAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let found = try await content.announcement(id: try ContentAPIController.id(context, "announcement"), for: .staff)
        return pages.page("content/edit", title: "Edit announcement", values: [
            "action": "/admin/announcements/\(found.id.text)", "title": found.title, "body": found.body, "published": found.published,
            "clientsOnly": found.audience == .clients, "isAnnouncement": true, "publishedAt": ISO8601DateFormatter().string(from: found.publishedAt),
        ], context: context)
    }

    @Sendable func deleteAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteAnnouncement(by: try SupportPagesController.account(context), id: try ContentAPIController.id(context, "announcement"))
        return redirect(to: "/admin/content")
    }

    @Sendable func createCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try SupportPagesController.account(context)
        let form = try await FormFields.read(request, context: context)
        return try await change(context) {
            _ = try await content.createCategory(by: staff, name: form.values["name"] ?? "", slug: form["slug"], description: form.values["description"])
        }
    }

    @Sendable func saveArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try SupportPagesController.account(context)
        let form = try await FormFields.read(request, context: context)
        let id = context.parameters.get("id") == nil ? nil : try ContentAPIController.id(context, "article")
        return try await change(context) {
            guard let category = form["category_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.invalid("choose a category", field: "category_id") }
            let input = ContentService.ArticleInput(
                categoryID: category, title: form.values["title"] ?? "", slug: form["slug"], body: form.values["body"] ?? "",
                audience: try ContentAudience(parsing: form["audience"]), published: form.flag("published")
            )
            if let id { _ = try await content.updateArticle(by: staff, id: id, input) } else { _ = try await content.createArticle(by: staff, input) }
        }
    }

    @Sendable func editArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let found = try await content.article(id: try ContentAPIController.id(context, "article"), for: .staff)
        let categories = try await content.categories(for: .staff)
        return pages.page("content/edit", title: "Edit article", values: [
            "action": "/admin/kb/articles/\(found.id.text)", "title": found.title, "body": found.body, "published": found.published,
            "clientsOnly": found.audience == .clients, "isArticle": true, "slug": found.slug,
            "categories": categories.map { ["id": $0.category.id.text, "name": $0.category.name, "selected": $0.category.id == found.categoryID] as [String: Any] },
        ], context: context)
    }

    @Sendable func deleteArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteArticle(by: try SupportPagesController.account(context), id: try ContentAPIController.id(context, "article"))
        return redirect(to: "/admin/content")
    }

    @Sendable func createDownloadCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try SupportPagesController.account(context)
        let form = try await FormFields.read(request, context: context)
        return try await change(context) {
            _ = try await content.createDownloadCategory(by: staff, name: form.values["name"] ?? "", description: form.values["description"])
        }
    }

    /// The staff upload form (`multipart/form-data`: the file and its details).
    @Sendable func uploadDownload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try SupportPagesController.account(context)
        let form = try await MultipartForm.read(request, context: context)
        guard form.isComplete else { throw SupportError.invalid("the form arrived incomplete (the upload was cut off); nothing was stored, please send it again") }
        return try await change(context) {
            guard let file = form.files.first else { throw SupportError.invalid("choose a file", field: "file") }
            guard let category = form["category_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.invalid("choose a category", field: "category_id") }
            let product = try form["product_id"].map { text in
                guard let id = UUID(uuidString: text) else { throw SupportError.invalid("product_id must be an id", field: "product_id") }
                return id
            }
            let input = ContentService.DownloadInput(
                categoryID: category, title: form["title"], description: form.fields["description"], visibility: try DownloadVisibility(parsing: form["visibility"]), productID: product
            )
            _ = try await content.upload(
                by: staff, input, filename: file.filename, contentType: nil, declaredSize: Int64(file.bytes.count), body: StorageByteStream.buffers([ByteBuffer(bytes: file.bytes)])
            )
        }
    }

    @Sendable func deleteDownload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await content.deleteDownload(by: try SupportPagesController.account(context), id: try ContentAPIController.id(context, "download"))
        return redirect(to: "/admin/content")
    }
}
