import SteadfastPersistence

extension OpenAPIDocument {
    /// The support content's routes (docs/content.md): announcements, the knowledge base and the
    /// downloads library; reading is open to anyone (what the reader may not see is a 404).
    static var contentOperations: [Operation] {
        let audience: [String: Any] = ["type": "string", "enum": ["public", "clients"], "description": "public: everyone; clients: logged-in accounts (default public)"]
        let visibility: [String: Any] = ["type": "string", "enum": ["public", "logged_in", "product"], "description": "product: clients with an active service of product_id"]
        let markdown: [String: Any] = ["type": "string", "description": "Markdown; shown as body_html, rendered and sanitised (raw HTML is shown as text, only http, https and mailto links are kept)"]
        let announcement = object(["title": string, "body": markdown, "audience": audience, "published": bool, "published_at": ["type": "string", "description": "ISO 8601 date or date-time; default now"]], required: ["title", "body"])
        let category = object(["name": string, "slug": string, "description": string], required: ["name"])
        let article = object(["category_id": uuid, "title": string, "slug": string, "body": markdown, "audience": audience, "published": bool], required: ["category_id", "title", "body"])
        return [
            Operation(method: "get", path: "/announcements", summary: "Published announcements the reader may see, newest first unless sort says otherwise (state=published|scheduled|draft, sort, dir; limit ≤ 200, default 50; offset); staff see drafts and scheduled ones too", access: .anyone, sort: ContentRepository.announcementSortColumns, tag: "content"),
            Operation(method: "get", path: "/announcements/{id}", summary: "One announcement with body_html (404 when the reader may not see it)", access: .anyone, tag: "content"),
            Operation(method: "get", path: "/kb/categories", summary: "Knowledge-base categories, each with the number of articles the reader may see", access: .anyone, tag: "content"),
            Operation(method: "get", path: "/kb/articles", summary: "Articles the reader may see, by title unless sort says otherwise (category_id, q: search in titles, state=published|draft, sort, dir; limit, offset)", access: .anyone, sort: ContentRepository.articleSortColumns, tag: "content"),
            Operation(method: "get", path: "/kb/articles/{id}", summary: "One article with body and body_html (404 when the reader may not see it)", access: .anyone, tag: "content"),
            Operation(method: "get", path: "/downloads/categories", summary: "Categories of the downloads library", access: .anyone, tag: "content"),
            Operation(method: "get", path: "/downloads", summary: "Files the reader may download, by title unless sort says otherwise (category_id, visibility=public|logged_in|product, sort, dir; limit, offset)", access: .anyone, sort: ContentRepository.downloadSortColumns, tag: "content"),
            Operation(method: "get", path: "/downloads/{id}", summary: "One file's details (404 when the reader may not download it)", access: .anyone, tag: "content"),
            Operation(method: "get", path: "/downloads/{id}/content", summary: "The file (Content-Disposition: attachment; Range: bytes=a-b gives 206; ?redirect=1 answers 303 to a 5-minute link); a request from the first byte counts one download", access: .anyone, tag: "content"),

            Operation(method: "post", path: "/admin/announcements", summary: "Add an announcement (201)", access: .staff, body: announcement, tag: "content"),
            Operation(method: "put", path: "/admin/announcements/{id}", summary: "Change an announcement", access: .staff, body: announcement, tag: "content"),
            Operation(method: "delete", path: "/admin/announcements/{id}", summary: "Delete an announcement", access: .staff, tag: "content"),
            Operation(method: "post", path: "/admin/kb/categories", summary: "Add a knowledge-base category (201; the slug is made from the name when absent; 409 for a taken slug)", access: .staff, body: category, tag: "content"),
            Operation(method: "put", path: "/admin/kb/categories/{id}", summary: "Change a category", access: .staff, body: category, tag: "content"),
            Operation(method: "delete", path: "/admin/kb/categories/{id}", summary: "Delete an empty category (409 while it holds articles)", access: .staff, tag: "content"),
            Operation(method: "post", path: "/admin/kb/articles", summary: "Add an article (201; 409 for a taken slug)", access: .staff, body: article, tag: "content"),
            Operation(method: "put", path: "/admin/kb/articles/{id}", summary: "Change an article", access: .staff, body: article, tag: "content"),
            Operation(method: "delete", path: "/admin/kb/articles/{id}", summary: "Delete an article", access: .staff, tag: "content"),
            Operation(method: "post", path: "/admin/downloads/categories", summary: "Add a category of the downloads library (201)", access: .staff, body: object(["name": string, "description": string], required: ["name"]), tag: "content"),
            Operation(method: "delete", path: "/admin/downloads/categories/{id}", summary: "Delete an empty download category (409 while it holds files)", access: .staff, tag: "content"),
            Operation(method: "post", path: "/admin/downloads", summary: "Add a file: the raw bytes as the body with Content-Length, Content-Type and X-Upload-Filename (percent-encoded); details in the query: category_id (required), title, description, visibility (public | logged_in | product), product_id; 201 with the download; 413 above support.download_max_size and 503 when storage is down, nothing stored", access: .staff, tag: "content"),
            Operation(method: "put", path: "/admin/downloads/{id}", summary: "Change a file's category, title, description or visibility", access: .staff, body: object(["category_id": uuid, "title": string, "description": string, "visibility": visibility, "product_id": uuid], required: ["category_id"]), tag: "content"),
            Operation(method: "delete", path: "/admin/downloads/{id}", summary: "Delete a file and every stored copy", access: .staff, tag: "content"),
        ]
    }
}
