import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastStorage

/// `GET /files/{target}/{key...}?expires=…&signature=…`: serves time-limited download links of
/// local (NAS) storage targets. Any node can check a link any node made (the signature uses the
/// cluster secret); no session is needed, the signature is the authorisation. A link's expiry is
/// checked against the node's clock, the one that dated it.
struct DownloadLinkController: Sendable {
    let registry: StorageRegistry
    let clock: any WallClock

    func addRoutes(to router: Router<PortalRequestContext>) {
        router.get("files/:target/**", use: download)
    }

    @Sendable func download(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let targetName = context.parameters.get("target"),
              let storage = registry.targets[targetName] as? LocalFileStorage,
              let signer = storage.downloadLinks
        else {
            throw HTTPError(.notFound, message: "no such download")
        }
        let key = context.parameters.getCatchAll().map { String($0).removingPercentEncoding ?? String($0) }.joined(separator: "/")
        let query = request.uri.queryParameters
        guard let expires = query["expires"].map(String.init), let signature = query["signature"].map(String.init) else {
            throw HTTPError(.forbidden, message: "this download link is incomplete")
        }
        let filename = query["filename"].map { String($0).removingPercentEncoding ?? String($0) }
        do {
            try signer.verify(key: key, expires: expires, filename: filename, signature: signature, now: clock.now())
        } catch let error as StorageError {
            throw HTTPError(.forbidden, message: error.message)
        }
        let read = try await storage.read(key: key, range: try FileDownload.byteRange(from: request.headers[.range]))
        return FileDownload.response(read, filename: filename ?? key.split(separator: "/").last.map(String.init) ?? "download", contentType: read.object.contentType ?? "application/octet-stream")
    }
}
