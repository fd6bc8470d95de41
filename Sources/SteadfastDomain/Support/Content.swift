import Foundation

/// Who reads published content: the one input of every visibility rule below.
public enum ContentReader: Sendable, Equatable {
    /// Not logged in.
    case visitor
    case client(UUID)
    case staff

    public init(account: Account?) {
        switch account?.role {
        case nil: self = .visitor
        case .staff?: self = .staff
        case .client?: self = .client(account!.id)
        }
    }

    public var isStaff: Bool { self == .staff }
}

/// Who may read an announcement or a knowledge-base article.
public enum ContentAudience: String, Sendable, CaseIterable, Codable {
    /// Everyone, visitors included.
    case `public`
    /// Logged-in accounts only.
    case clients

    public init(parsing raw: String?, field: String = "audience") throws(SupportError) {
        guard let raw, !raw.isEmpty else { self = .public; return }
        guard let audience = ContentAudience(rawValue: raw) else { throw .invalid("\(field) must be public or clients", field: field) }
        self = audience
    }
}

/// Who may download a file of the downloads library.
public enum DownloadVisibility: String, Sendable, CaseIterable, Codable {
    case `public`
    /// Any logged-in account.
    case loggedIn = "logged_in"
    /// Clients with an active service of the download's product (and staff).
    case product

    public init(parsing raw: String?) throws(SupportError) {
        guard let raw, !raw.isEmpty else { self = .public; return }
        guard let visibility = DownloadVisibility(rawValue: raw) else {
            throw .invalid("visibility must be public, logged_in or product", field: "visibility")
        }
        self = visibility
    }
}

/// The visibility rules of the content pages and API, pure: what a reader may see of a piece of
/// content. What a reader may not see is answered exactly like what does not exist (404).
public enum ContentAccess {
    /// What the rule needs beyond the reader and the content.
    public enum Decision: Sendable, Equatable {
        case allowed, denied
        /// Allowed when the client has an active service of this product (the caller asks the database).
        case ifOwnsProduct(UUID)
    }

    /// An announcement or article: staff see everything (drafts and scheduled ones too); others
    /// see published content whose date has come, public to all and `clients` to logged-in accounts.
    public static func canRead(audience: ContentAudience, published: Bool, publishedAt: Date, reader: ContentReader, now: Date) -> Bool {
        canRead(audience: audience, published: published && publishedAt <= now, reader: reader)
    }

    /// The same rule for content without a publication date (knowledge-base articles).
    public static func canRead(audience: ContentAudience, published: Bool, reader: ContentReader) -> Bool {
        if reader.isStaff { return true }
        return published && (audience == .public || reader != .visitor)
    }

    public static func canDownload(visibility: DownloadVisibility, productID: UUID?, reader: ContentReader) -> Decision {
        switch (reader, visibility) {
        case (.staff, _), (_, .public): return .allowed
        case (.visitor, _): return .denied
        case (.client, .loggedIn): return .allowed
        case (.client, .product): return productID.map(Decision.ifOwnsProduct) ?? .denied
        }
    }
}

public struct Announcement: Sendable, Equatable {
    public var id: UUID
    public var title: String
    /// Markdown, as the author wrote it (rendered and sanitised when shown).
    public var body: String
    public var audience: ContentAudience
    public var published: Bool
    /// The date shown; readers other than staff see it from this moment on.
    public var publishedAt: Date
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, title: String, body: String, audience: ContentAudience, published: Bool, publishedAt: Date, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.title = title
        self.body = body
        self.audience = audience
        self.published = published
        self.publishedAt = publishedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct KBCategory: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var slug: String
    public var description: String
    public var createdAt: Date

    public init(id: UUID, name: String, slug: String, description: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.slug = slug
        self.description = description
        self.createdAt = createdAt
    }
}

public struct KBArticle: Sendable, Equatable {
    public var id: UUID
    public var categoryID: UUID
    public var title: String
    public var slug: String
    /// Markdown, as the author wrote it.
    public var body: String
    public var audience: ContentAudience
    public var published: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, categoryID: UUID, title: String, slug: String, body: String, audience: ContentAudience, published: Bool, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.categoryID = categoryID
        self.title = title
        self.slug = slug
        self.body = body
        self.audience = audience
        self.published = published
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct DownloadCategory: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var description: String
    public var createdAt: Date

    public init(id: UUID, name: String, description: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.description = description
        self.createdAt = createdAt
    }
}

/// A file of the downloads library (its bytes in `stored_files`, type `downloads`).
public struct Download: Sendable, Equatable {
    public var id: UUID
    public var categoryID: UUID
    public var fileID: UUID
    public var title: String
    public var description: String
    public var filename: String
    public var size: Int64
    public var sha256: String
    public var contentType: String
    public var visibility: DownloadVisibility
    /// Set exactly when `visibility` is `product`.
    public var productID: UUID?
    public var downloadCount: Int64
    public var createdAt: Date

    public init(
        id: UUID, categoryID: UUID, fileID: UUID, title: String, description: String, filename: String, size: Int64, sha256: String,
        contentType: String, visibility: DownloadVisibility, productID: UUID?, downloadCount: Int64, createdAt: Date
    ) {
        self.id = id
        self.categoryID = categoryID
        self.fileID = fileID
        self.title = title
        self.description = description
        self.filename = filename
        self.size = size
        self.sha256 = sha256
        self.contentType = contentType
        self.visibility = visibility
        self.productID = productID
        self.downloadCount = downloadCount
        self.createdAt = createdAt
    }
}

/// The content's text rules (the ticket text rule, with the content's fields and lengths).
public enum ContentText {
    public static func title(_ raw: String, field: String = "title") throws(SupportError) -> String {
        try Ticket.validText(raw, field: field, maxLength: 200, multiline: false)
    }

    /// Markdown bodies: 1-100,000 characters.
    public static func body(_ raw: String, field: String = "body") throws(SupportError) -> String {
        try Ticket.validText(raw, field: field, maxLength: 100_000, multiline: true)
    }

    /// An optional description: empty allowed, at most 2,000 characters.
    public static func description(_ raw: String?) throws(SupportError) -> String {
        guard let raw, !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return "" }
        return try Ticket.validText(raw, field: "description", maxLength: 2_000, multiline: true)
    }

    /// A URL slug: 1-100 of `a-z`, `0-9` and single `-` between them. Without one, it is made
    /// from `title` (`"Set up DNS!"` → `set-up-dns`).
    public static func slug(_ raw: String?, from title: String) throws(SupportError) -> String {
        if let raw, !raw.isEmpty {
            guard raw.count <= 100, raw.wholeMatch(of: /[a-z0-9]+(-[a-z0-9]+)*/) != nil else {
                throw .invalid("slug must be 1 to 100 lower-case letters, digits and single hyphens between them", field: "slug")
            }
            return raw
        }
        var slug = ""
        for scalar in title.lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        guard !slug.isEmpty else { throw .invalid("give a slug: the title has no letters or digits to make one from", field: "slug") }
        return String(slug.prefix(100)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}
