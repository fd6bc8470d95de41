import Foundation
import HTTPTypes
import Hummingbird
import SteadfastConfig
import SteadfastDomain
import SteadfastServices
import SteadfastStorage

/// `/api/v1/files`: a client's own files (the `client_files` type). Uploads stream straight into
/// the shared storage target; every other route checks the file belongs to the caller (staff
/// may reach any file) and answers 404 otherwise, never revealing that another client's file
/// exists.
struct FilesAPIController: Sendable {
    static let filenameHeader = HTTPField.Name("X-Upload-Filename")!

    let files: FileService
    let maxUploadSize: Int
    let linkLifetime: Duration = .seconds(300)

    func addRoutes(to group: RouterGroup<PortalRequestContext>) {
        group.post("files", use: upload)
        group.get("files", use: list)
        group.get("files/:id", use: show)
        group.get("files/:id/content", use: content)
        group.get("files/:id/link", use: link)
        group.delete("files/:id", use: delete)
    }

    /// `POST /api/v1/files` with the raw bytes as the body, `Content-Length`, `Content-Type`
    /// and `X-Upload-Filename` (percent-encoded UTF-8).
    @Sendable func upload(_ request: Request, context: PortalRequestContext) async throws -> EditedResponse<FileResponse> {
        let account = try context.requireAccount()
        guard let rawName = request.headers[Self.filenameHeader] else {
            throw HTTPError(.badRequest, message: "send the file name in the X-Upload-Filename header")
        }
        guard let length = request.headers[.contentLength].flatMap(Int64.init), length >= 0 else {
            throw HTTPError(.lengthRequired, message: "uploads need a Content-Length header")
        }
        guard length <= maxUploadSize else {
            throw HTTPError(.contentTooLarge, message: "files may be at most \(maxUploadSize) bytes")
        }
        let file = try await files.upload(
            type: .clientFiles, owner: account.id, filename: rawName.removingPercentEncoding ?? rawName,
            contentType: request.headers[.contentType], size: length, body: request.body
        ) { tx, file in
            try await AuditTrail.record(
                tx, .fileUploaded, object: AuditObject("file", file.id), after: ["filename": file.filename, "size": String(file.size)], account: account.id, now: file.createdAt
            )
        }
        return EditedResponse(status: .created, response: FileResponse(file))
    }

    /// `GET /api/v1/files?limit=&offset=`: newest first, 50 a page by default (at most 200).
    @Sendable func list(_ request: Request, context: PortalRequestContext) async throws -> FileListResponse {
        let account = try context.requireAccount()
        let page = try context.page(request)
        let found = try await files.files(owner: account.id, type: .clientFiles, limit: page.limit, offset: page.offset)
        return FileListResponse(files: found.map(FileResponse.init), limit: page.limit, offset: page.offset)
    }

    @Sendable func show(_ request: Request, context: PortalRequestContext) async throws -> FileResponse {
        FileResponse(try await file(context))
    }

    @Sendable func content(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let file = try await file(context)
        return try await FileDownload.serve(file, from: files, filename: file.filename, contentType: file.contentType, request: request, redirect: false)
    }

    @Sendable func link(_ request: Request, context: PortalRequestContext) async throws -> [String: String] {
        let file = try await file(context)
        let url = try await files.downloadURL(file, expiresIn: linkLifetime)
        let expires = files.now() + linkLifetime
        return ["url": Self.presentable(url), "expires_at": ISO8601DateFormatter().string(from: expires)]
    }

    @Sendable func delete(_ request: Request, context: PortalRequestContext) async throws -> HTTPResponse.Status {
        let file = try await file(context)
        let now = files.now()
        try await files.delete(file) { tx in
            try await AuditTrail.record(tx, .fileDeleted, object: AuditObject("file", file.id), before: ["filename": file.filename, "size": String(file.size)], account: file.ownerID, now: now)
        }
        return .noContent
    }

    /// The file named in the path, if the caller may see it; 404 otherwise.
    func file(_ context: PortalRequestContext) async throws -> StoredFile {
        let account = try context.requireAccount()
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
              let file = try await files.file(id: id, owner: StaffPolicy.allows(account, .clientsRead) ? nil : account.id),
              file.type == .clientFiles || StaffPolicy.allows(account, .clientsRead)
        else {
            throw HTTPError(.notFound, message: "no such file")
        }
        return file
    }

    /// Local links made without a configured public URL point at a placeholder host: hand them
    /// out as paths, which resolve against whichever node the client talks to.
    static func presentable(_ url: URL) -> String {
        guard url.host == NodeConfiguration.relativeLinkHost else { return url.absoluteString }
        let path = url.absoluteString.replacingOccurrences(of: "http://\(NodeConfiguration.relativeLinkHost)", with: "")
        return path.isEmpty ? "/" : path
    }
}
