import Foundation
import Hummingbird

/// `GET /assets/{file}`: the one stylesheet and the progressive-enhancement script
/// (`Sources/SteadfastWeb/Assets`), read once at start and served without a session, with a
/// short cache lifetime (a rolling deploy changes them; no fingerprinting yet).
struct AssetsController: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
    }

    let assets: [String: Asset]

    /// Loads `site.css`, `site.js` and the card page's `card-payment.js` from the target's resources.
    static func load() throws -> AssetsController {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Assets") else { throw AssetsMissing() }
        var assets: [String: Asset] = [:]
        for (name, type) in [("site.css", "text/css; charset=utf-8"), ("site.js", "text/javascript; charset=utf-8"), ("card-payment.js", "text/javascript; charset=utf-8")] {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            assets[name] = Asset(body: ByteBuffer(bytes: data), contentType: type)
        }
        return AssetsController(assets: assets)
    }

    struct AssetsMissing: Error {}

    func addRoutes(to router: Router<PortalRequestContext>) {
        router.get("assets/{file}") { _, context in
            guard let asset = assets[context.parameters.get("file") ?? ""] else { throw HTTPError(.notFound, message: "No such file.") }
            return Response(status: .ok, headers: [
                .contentType: asset.contentType, .cacheControl: "public, max-age=300", .init("X-Content-Type-Options")!: "nosniff",
            ], body: .init(byteBuffer: asset.body))
        }
    }
}
