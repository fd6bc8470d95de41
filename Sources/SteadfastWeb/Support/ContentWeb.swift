import Foundation
import Hummingbird
import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// The support content (docs/content.md): the node's ``ContentService``, body limits, the
/// JSON views.
enum ContentWeb {
    static func service(configuration: NodeConfiguration, database: any SQLDatabase, files: FileService, clock: any WallClock) -> ContentService {
        ContentService(database: database, files: files, maxDownloadSize: configuration.support.downloadMaxSize, clock: clock, logger: Logger(label: "steadfast.content"))
    }

    /// The paths that take files of the downloads library, with their body limits: the raw
    /// API upload exactly the file limit, the staff form that plus its fields.
    static func uploadLimits(_ configuration: NodeConfiguration) -> [String: Int] {
        let limit = Int(clamping: configuration.support.downloadMaxSize)
        let (form, overflow) = limit.addingReportingOverflow(1 << 20)
        return ["/api/v1/admin/downloads": limit, "/admin/downloads/upload": overflow ? Int.max : form]
    }

    /// The reader of a request.
    static func reader(_ context: PortalRequestContext) -> ContentReader {
        ContentReader(account: context.account)
    }

    /// Serves a download's bytes (Range, `?redirect=1`, as ticket attachments) and counts it
    /// once when the request starts at the first byte.
    static func serve(_ download: Download, content: ContentService, request: Request) async throws -> Response {
        let file = try await content.file(of: download)
        let response = try await FileDownload.serve(file, from: content.files, filename: download.filename, contentType: download.contentType, request: request)
        if FileDownload.startsAtFirstByte(request) { try await content.countDownload(download) }
        return response
    }
}

/// Support content as the JSON API shows it (snake_case through ``BillingJSON``).
enum ContentViews {
    struct AnnouncementView: Encodable {
        let id: String
        let title: String
        /// The Markdown as written.
        let body: String
        /// The Markdown rendered and sanitised (docs/content.md).
        let bodyHtml: String
        let audience: String
        let published: Bool
        let publishedAt: Date
        let updatedAt: Date
        init(_ a: Announcement) {
            id = a.id.text
            title = a.title
            body = a.body
            bodyHtml = SafeMarkdown.html(a.body)
            audience = a.audience.rawValue
            published = a.published
            publishedAt = a.publishedAt
            updatedAt = a.updatedAt
        }
    }

    struct CategoryView: Encodable {
        let id: String
        let name: String
        let slug: String
        let description: String
        let articles: Int64?
        init(_ c: KBCategory, articles: Int64? = nil) {
            id = c.id.text
            name = c.name
            slug = c.slug
            description = c.description
            self.articles = articles
        }
    }

    struct ArticleView: Encodable {
        let id: String
        let categoryId: String
        let title: String
        let slug: String
        /// Only on a single article, not in lists.
        let body: String?
        let bodyHtml: String?
        let audience: String
        let published: Bool
        let updatedAt: Date
        init(_ a: KBArticle, full: Bool) {
            id = a.id.text
            categoryId = a.categoryID.text
            title = a.title
            slug = a.slug
            body = full ? a.body : nil
            bodyHtml = full ? SafeMarkdown.html(a.body) : nil
            audience = a.audience.rawValue
            published = a.published
            updatedAt = a.updatedAt
        }
    }

    struct DownloadCategoryView: Encodable {
        let id: String
        let name: String
        let description: String
        init(_ c: DownloadCategory) {
            id = c.id.text
            name = c.name
            description = c.description
        }
    }

    struct DownloadView: Encodable {
        let id: String
        let categoryId: String
        let title: String
        let description: String
        let filename: String
        let size: Int64
        let sha256: String
        let contentType: String
        let visibility: String
        let productId: String?
        let downloadCount: Int64
        let createdAt: Date
        init(_ d: Download) {
            id = d.id.text
            categoryId = d.categoryID.text
            title = d.title
            description = d.description
            filename = d.filename
            size = d.size
            sha256 = d.sha256
            contentType = d.contentType
            visibility = d.visibility.rawValue
            productId = d.productID?.text
            downloadCount = d.downloadCount
            createdAt = d.createdAt
        }
    }
}
