import Foundation
import Hummingbird
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage

/// The support content's pages (docs/content.md): `/announcements`, `/knowledgebase` and
/// `/downloads` for every reader (what the reader may not see is a 404 page), and the staff
/// pages `/admin/content` (the hub and the categories), `/admin/content/announcements`,
/// `/admin/content/articles` and `/admin/content/downloads` (sorted, filtered, paged lists) with
/// their forms, behind ``RequirePermission`` (`support.reply`, what ``ContentService`` asks too).
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

        // A refused form is shown again on its page with what was entered (``FormReplay``).
        let staff = html.group("admin").add(middleware: RequirePermission(.supportReply))
        staff.get("content", use: admin)
        staff.get("content/announcements", use: adminAnnouncements)
        staff.get("content/articles", use: adminArticles)
        staff.get("content/downloads", use: adminDownloads)
        staff.post("announcements", rerendering: adminAnnouncements, use: saveAnnouncement)
        staff.get("announcements/{id}", use: editAnnouncement)
        staff.post("announcements/{id}", rerendering: editAnnouncement, use: saveAnnouncement)
        staff.post("announcements/{id}/delete", rerendering: adminAnnouncements, use: deleteAnnouncement)
        staff.post("kb/categories", rerendering: admin, use: createCategory)
        staff.post("kb/articles", rerendering: adminArticles, use: saveArticle)
        staff.get("kb/articles/{id}", use: editArticle)
        staff.post("kb/articles/{id}", rerendering: editArticle, use: saveArticle)
        staff.post("kb/articles/{id}/delete", rerendering: adminArticles, use: deleteArticle)
        staff.post("downloads/categories", rerendering: admin, use: createDownloadCategory)
        staff.post("downloads/upload", rerendering: adminDownloads, use: uploadDownload)
        staff.post("downloads/{id}/delete", rerendering: adminDownloads, use: deleteDownload)
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

    /// The staff hub: the three content lists, and the two category lists in full (short
    /// configuration lists, complete wherever a form offers them; docs/content.md, "Staff lists").
    @Sendable func admin(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let categories = try await content.categories(for: .staff)
        let downloadCategories = try await content.downloadCategories()
        func field(_ name: String, _ label: String, hint: String? = nil, required: Bool = false, form: String) -> [String: Any] {
            FormField.make(name, label: label, hint: hint, required: required, form: form, context: context)
        }
        var values: [String: Any] = [
            "categories": categories.map {
                ["id": $0.category.id.text, "name": $0.category.name, "slug": $0.category.slug, "description": $0.category.description, "articles": $0.articles] as [String: Any]
            },
            "downloadCategories": downloadCategories.map { ["id": $0.id.text, "name": $0.name, "description": $0.description] },
            "fields": [
                "categoryName": field("name", "Name", required: true, form: "category"),
                "categorySlug": field("slug", "Slug", hint: "Made from the name when empty.", form: "category"),
                "categoryDescription": field("description", "Description", form: "category"),
                "downloadCategoryName": field("name", "Name", required: true, form: "download-category"),
                "downloadCategoryDescription": field("description", "Description", form: "download-category"),
            ],
        ]
        if categories.isEmpty { values["categoriesEmpty"] = ["empty": EmptyState.values("No knowledge-base categories yet. Articles are written in a category: add one below.")] }
        if downloadCategories.isEmpty { values["downloadCategoriesEmpty"] = ["empty": EmptyState.values("No download categories yet. Files are kept in a category: add one below.")] }
        return pages.page("content/admin", title: "Content", values: values, context: context)
    }

    static func audienceLabel(_ audience: ContentAudience) -> String {
        audience == .clients ? "logged-in clients" : "everyone"
    }

    static func visibilityLabel(_ visibility: DownloadVisibility) -> String {
        switch visibility {
        case .public: "everyone"
        case .loggedIn: "logged-in clients"
        case .product: "owners of a product"
        }
    }

    /// The empty state of a list filed in categories: nothing matches the filters (show all
    /// again), no category exists yet (add one first), or nothing is filed yet.
    static func empty(
        _ noun: String, _ plural: String, filtered: Bool, hasCategories: Bool, path: String, needsCategory: String, first: String
    ) -> [String: Any] {
        if filtered { return EmptyState.values("No \(noun) matches these filters.", action: (href: path, label: "Show all \(plural)")) }
        guard hasCategories else { return EmptyState.values("No \(plural) yet. \(needsCategory)", action: (href: "/admin/content", label: "Add a category")) }
        return EmptyState.values("No \(plural) yet. \(first)")
    }

    /// The announcement form's fields (`announcement`): empty for a new one, or `found`'s values.
    func announcementFields(_ found: Announcement?, context: PortalRequestContext) -> [String: Any] {
        let form = "announcement"
        return [
            "title": FormField.make("title", label: "Title", value: found?.title ?? "", required: true, form: form, context: context),
            "body": FormField.make("body", label: "Text (Markdown; HTML is shown as text)", value: found?.body ?? "", kind: .textarea(rows: 10), required: true, form: form, context: context),
            "audience": FormField.make(
                "audience", label: "Who may read it", value: found?.audience.rawValue ?? "public",
                kind: .select(ContentAudience.allCases.map { (value: $0.rawValue, label: Self.audienceLabel($0)) }), form: form, context: context
            ),
            "publishedAt": FormField.make(
                "published_at", label: "Publication date", value: found.map { ISO8601DateFormatter().string(from: $0.publishedAt) } ?? "",
                hint: "A day (2026-12-06) or a moment (2026-12-06T10:00:00Z); a date to come schedules it. Empty: now.", form: form, context: context
            ),
            "published": FormField.make("published", label: "Published (otherwise a draft only staff see)", value: (found?.published ?? true) ? "1" : "", kind: .checkbox, form: form, context: context),
        ]
    }

    /// `/admin/content/announcements`: every announcement (drafts and scheduled ones too), by
    /// `state`, sorted and paged like every staff list, with the form that adds one.
    @Sendable func adminAnnouncements(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let path = "/admin/content/announcements"
        let state = try ListChoice<ContentRepository.State>(request, "state")
        let table = try SortableTable(request, columns: ContentRepository.announcementSortColumns, path: path, filters: ["state": state.text])
        let list = try await table.fetch { try await content.announcements(for: .staff, state: state.selected, sort: $0, limit: $1, offset: $2) }
        let rows = list.rows.map { found -> [String: Any] in
            [
                "id": found.id.text, "title": found.title, "date": Self.date(found.publishedAt), "updated": Self.date(found.updatedAt),
                "audience": Self.audienceLabel(found.audience), "badge": Badge.values(content.state(of: found).rawValue),
                "confirm": ConfirmAction.values(
                    label: "Delete…", action: "/admin/announcements/\(found.id.text)/delete",
                    question: "Delete the announcement “\(found.title)”? Readers no longer see it.", confirmLabel: "Yes, delete it"
                ),
            ]
        }
        var values = table.values("announcements", list, rows: rows, empty: EmptyState.values(
            state.selected.map { "No \($0.rawValue) announcements." } ?? "No announcements yet. Write the first one below."
        ), headings: [
            table.column("Title", key: "title"), table.column("Published", key: "published"), table.column("Audience", key: "audience"),
            table.column("State", key: "state"), table.column("Updated", key: "updated"), table.column("Actions"),
        ])
        values["states"] = state.options()
        values["fields"] = announcementFields(nil, context: context)
        return pages.page("content/admin-announcements", title: "Announcements", values: values, context: context)
    }

    /// The article form's fields (`article`): empty for a new one, or `found`'s values.
    func articleFields(_ found: KBArticle?, categories: [KBCategory], context: PortalRequestContext) -> [String: Any] {
        let form = "article"
        return [
            "category": FormField.make(
                "category_id", label: "Category", value: found?.categoryID.text ?? "", kind: .select(categories.map { (value: $0.id.text, label: $0.name) }), form: form, context: context
            ),
            "title": FormField.make("title", label: "Title", value: found?.title ?? "", required: true, form: form, context: context),
            "slug": FormField.make("slug", label: "Slug", value: found?.slug ?? "", hint: "Made from the title when empty.", form: form, context: context),
            "body": FormField.make("body", label: "Text (Markdown; HTML is shown as text)", value: found?.body ?? "", kind: .textarea(rows: 12), required: true, form: form, context: context),
            "audience": FormField.make(
                "audience", label: "Who may read it", value: found?.audience.rawValue ?? "public",
                kind: .select(ContentAudience.allCases.map { (value: $0.rawValue, label: Self.audienceLabel($0)) }), form: form, context: context
            ),
            "published": FormField.make("published", label: "Published (otherwise a draft only staff see)", value: (found?.published ?? true) ? "1" : "", kind: .checkbox, form: form, context: context),
        ]
    }

    /// `/admin/content/articles`: every article (drafts too), by category, `state` and title
    /// search (`q`), sorted and paged, with the form that adds one.
    @Sendable func adminArticles(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let path = "/admin/content/articles"
        let state = try ListChoice<ContentRepository.ArticleState>(request, "state")
        let categoryID = try ContentAPIController.queryID(request, "category_id")
        let search = request.uri.queryParameters.get("q")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let table = try SortableTable(request, columns: ContentRepository.articleSortColumns, path: path, filters: [
            "state": state.text, "category_id": categoryID?.text ?? "", "q": search,
        ])
        let categories = try await content.categories(for: .staff).map(\.category)
        let names = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.name) })
        let list = try await table.fetch {
            try await content.articles(for: .staff, categoryID: categoryID, search: search, state: state.selected, sort: $0, limit: $1, offset: $2)
        }
        let rows = list.rows.map { found -> [String: Any] in
            [
                "id": found.id.text, "title": found.title, "slug": found.slug, "category": names[found.categoryID] ?? "",
                "audience": Self.audienceLabel(found.audience), "updated": Self.date(found.updatedAt),
                "badge": Badge.values(found.published ? "published" : "draft"),
                "confirm": ConfirmAction.values(
                    label: "Delete…", action: "/admin/kb/articles/\(found.id.text)/delete",
                    question: "Delete the article “\(found.title)”? Links to it stop working.", confirmLabel: "Yes, delete it"
                ),
            ]
        }
        let empty = Self.empty(
            "article", "articles", filtered: state.selected != nil || categoryID != nil || !search.isEmpty, hasCategories: !categories.isEmpty, path: path,
            needsCategory: "Add a category first, then write an article in it.", first: "Write the first one below."
        )
        var values = table.values("articles", list, rows: rows, empty: empty, headings: [
            table.column("Title", key: "title"), table.column("Category", key: "category"), table.column("Audience", key: "audience"),
            table.column("State", key: "state"), table.column("Updated", key: "updated"), table.column("Actions"),
        ])
        values["q"] = search
        values["states"] = state.options()
        values["categories"] = categories.map { ["id": $0.id.text, "name": $0.name, "selected": $0.id == categoryID] as [String: Any] }
        values["hasCategories"] = !categories.isEmpty
        values["fields"] = articleFields(nil, categories: categories, context: context)
        return pages.page("content/admin-articles", title: "Knowledge-base articles", values: values, context: context)
    }

    /// `/admin/content/downloads`: every file of the library, by category and visibility,
    /// sorted and paged, with the upload form.
    @Sendable func adminDownloads(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let path = "/admin/content/downloads"
        let visibility = try ListChoice<DownloadVisibility>(request, "visibility")
        let categoryID = try ContentAPIController.queryID(request, "category_id")
        let table = try SortableTable(request, columns: ContentRepository.downloadSortColumns, path: path, filters: [
            "visibility": visibility.text, "category_id": categoryID?.text ?? "",
        ])
        let categories = try await content.downloadCategories()
        let names = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.name) })
        let list = try await table.fetch {
            try await content.downloads(for: .staff, categoryID: categoryID, visibility: visibility.selected, sort: $0, limit: $1, offset: $2)
        }
        let rows = list.rows.map { found -> [String: Any] in
            [
                "id": found.id.text, "title": found.title, "filename": found.filename, "category": names[found.categoryID] ?? "",
                "visibility": Self.visibilityLabel(found.visibility), "size": found.size, "count": found.downloadCount, "created": Self.date(found.createdAt),
                "confirm": ConfirmAction.values(
                    label: "Delete…", action: "/admin/downloads/\(found.id.text)/delete",
                    question: "Delete the file “\(found.title)” (\(found.filename)) and every stored copy?", confirmLabel: "Yes, delete it"
                ),
            ]
        }
        let empty = Self.empty(
            "file", "files", filtered: visibility.selected != nil || categoryID != nil, hasCategories: !categories.isEmpty, path: path,
            needsCategory: "Add a download category first, then upload into it.", first: "Upload the first one below."
        )
        var values = table.values("downloads", list, rows: rows, empty: empty, headings: [
            table.column("File", key: "title"), table.column("Category", key: "category"), table.column("Who may download", key: "visibility"),
            table.column("Size (bytes)", key: "size", numeric: true), table.column("Downloads", key: "downloads", numeric: true),
            table.column("Added", key: "created"), table.column("Actions"),
        ])
        values["visibilities"] = visibility.options(label: Self.visibilityLabel)
        values["categories"] = categories.map { ["id": $0.id.text, "name": $0.name, "selected": $0.id == categoryID] as [String: Any] }
        values["hasCategories"] = !categories.isEmpty
        values["uploadFields"] = uploadFields(categories: categories, context: context)
        return pages.page("content/admin-downloads", title: "Downloads library", values: values, context: context)
    }

    @Sendable func saveAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        let id = context.parameters.get("id") == nil ? nil : try ContentAPIController.id(context, "announcement")
        let input = ContentService.AnnouncementInput(
            title: form.values["title"] ?? "", body: form.values["body"] ?? "", audience: try ContentAudience(parsing: form["audience"]),
            published: form.flag("published"), publishedAt: try form["published_at"].map { try ContentAPIController.date($0, field: "published_at") }
        )
        let saved = if let id { try await content.updateAnnouncement(by: staff, id: id, input) } else { try await content.createAnnouncement(by: staff, input) }
        context.flash(.success, "Announcement “\(saved.title)” saved.")
        return redirect(to: "/admin/content/announcements")
    }

    @Sendable func editAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let found = try await content.announcement(id: try ContentAPIController.id(context, "announcement"), for: .staff)
        return pages.page("content/edit", title: "Edit announcement: \(found.title)", values: [
            "action": "/admin/announcements/\(found.id.text)", "back": "/admin/content/announcements", "backLabel": "Announcements", "title": found.title,
            "isAnnouncement": true, "fields": announcementFields(found, context: context),
        ], context: context)
    }

    @Sendable func deleteAnnouncement(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await delete("announcement", done: "Announcement deleted.", back: "/admin/content/announcements", context: context, content.deleteAnnouncement(by:id:))
    }

    @Sendable func createCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await addCategory("Category", request, context: context) { staff, form in
            try await content.createCategory(by: staff, name: form.values["name"] ?? "", slug: form["slug"], description: form.values["description"]).name
        }
    }

    /// A delete button of the staff content lists: as the staff member, `remove` the `what` whose
    /// id is in the path, then back to its list (`back`) saying `done`.
    private func delete(
        _ what: String, done: String, back: String, context: PortalRequestContext, _ remove: (Account, UUID) async throws -> Void
    ) async throws -> Response {
        try await remove(try context.requirePageAccount(), try ContentAPIController.id(context, what))
        context.flash(.success, done)
        return redirect(to: back)
    }

    /// An add-a-category form of the content page (knowledge-base or download `kind`): `create`
    /// makes it from the form as the staff member and names it; then back to the content page.
    private func addCategory(
        _ kind: String, _ request: Request, context: PortalRequestContext, create: (Account, FormFields) async throws -> String
    ) async throws -> Response {
        let staff = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        let name = try await create(staff, form)
        context.flash(.success, "\(kind) “\(name)” added.")
        return redirect(to: "/admin/content")
    }

    @Sendable func saveArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requirePageAccount()
        let form = try await FormFields.read(request, context: context)
        let id = context.parameters.get("id") == nil ? nil : try ContentAPIController.id(context, "article")
        guard let category = form["category_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.invalid("choose a category", field: "category_id") }
        let input = ContentService.ArticleInput(
            categoryID: category, title: form.values["title"] ?? "", slug: form["slug"], body: form.values["body"] ?? "",
            audience: try ContentAudience(parsing: form["audience"]), published: form.flag("published")
        )
        let saved = if let id { try await content.updateArticle(by: staff, id: id, input) } else { try await content.createArticle(by: staff, input) }
        context.flash(.success, "Article “\(saved.title)” saved.")
        return redirect(to: "/admin/content/articles")
    }

    @Sendable func editArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let found = try await content.article(id: try ContentAPIController.id(context, "article"), for: .staff)
        let categories = try await content.categories(for: .staff).map(\.category)
        return pages.page("content/edit", title: "Edit article: \(found.title)", values: [
            "action": "/admin/kb/articles/\(found.id.text)", "back": "/admin/content/articles", "backLabel": "Articles", "title": found.title,
            "isArticle": true, "fields": articleFields(found, categories: categories, context: context),
        ], context: context)
    }

    @Sendable func deleteArticle(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await delete("article", done: "Article deleted.", back: "/admin/content/articles", context: context, content.deleteArticle(by:id:))
    }

    @Sendable func createDownloadCategory(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await addCategory("Download category", request, context: context) { staff, form in
            try await content.createDownloadCategory(by: staff, name: form.values["name"] ?? "", description: form.values["description"]).name
        }
    }

    /// The staff upload form (`multipart/form-data`: the file and its details).
    /// The upload form (`_form` `download`); after a refused upload its fields are as typed
    /// and the message is beside its field (a problem with the file beside the file picker).
    func uploadFields(categories: [DownloadCategory], context: PortalRequestContext) -> [String: Any] {
        let field = { (name: String, label: String, kind: FormField.Kind, hint: String?, required: Bool) in
            FormField.make(name, label: label, kind: kind, hint: hint, required: required, form: "download", context: context)
        }
        return [
            "category": field("category_id", "Category", .select(categories.map { ($0.id.text, $0.name) }), nil, true),
            "title": field("title", "Title", .text(type: "text"), "The file name when empty.", false),
            "description": field("description", "Description", .text(type: "text"), nil, false),
            "visibility": field("visibility", "Who may download it", .select(DownloadVisibility.allCases.map { ($0.rawValue, Self.visibilityLabel($0)) }), nil, false),
            "product": field("product_id", "Product id", .text(type: "text"), "Only for “owners of a product”: clients with an active service of it.", false),
            "file": field("file", "File", .file(multiple: false), "At most \(content.maxDownloadSize) bytes.", true),
        ]
    }

    @Sendable func uploadDownload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requirePageAccount()
        let form = try await MultipartForm.read(request, context: context)
        guard form.isComplete else { throw SupportError.invalid("the form arrived incomplete (the upload was cut off); nothing was stored, please send it again") }
        do {
            guard let file = form.files.first else { throw SupportError.invalid("choose a file", field: "file") }
            guard let category = form["category_id"].flatMap(UUID.init(uuidString:)) else { throw SupportError.invalid("choose a category", field: "category_id") }
            let product = try form["product_id"].map { text in
                guard let id = UUID(uuidString: text) else { throw SupportError.invalid("product_id must be an id", field: "product_id") }
                return id
            }
            let input = ContentService.DownloadInput(
                categoryID: category, title: form["title"], description: form.fields["description"], visibility: try DownloadVisibility(parsing: form["visibility"]), productID: product
            )
            let stored = try await content.upload(
                by: staff, input, filename: file.filename, contentType: nil, declaredSize: Int64(file.bytes.count), body: StorageByteStream.buffers([ByteBuffer(bytes: file.bytes)])
            )
            context.flash(.success, "File “\(stored.title)” uploaded.")
            return redirect(to: "/admin/content/downloads")
        } catch let error as SupportError where SupportPagesController.refusals.contains(error.kind) {
            // Multipart: the form's text comes back here, not through `rerendering:`.
            let replay = SupportPagesController.refused(error, form: "download", fields: form.fields, picker: "file", context: context)
            var response = try await adminDownloads(request, context: replay)
            response.status = Problem(error).status
            return response
        }
    }

    @Sendable func deleteDownload(_ request: Request, context: PortalRequestContext) async throws -> Response {
        try await delete("download", done: "File deleted.", back: "/admin/content/downloads", context: context, content.deleteDownload(by:id:))
    }
}
