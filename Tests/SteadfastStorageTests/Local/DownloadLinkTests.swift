import Foundation
import SteadfastStorage
import Testing

/// Local download links: signed with the cluster secret, refused when tampered with or expired.
@Suite struct DownloadLinkTests {
    static let secret = String(repeating: "k", count: 40)
    let signer: LocalDownloadLinkSigner

    init() throws {
        signer = try LocalDownloadLinkSigner(secret: Self.secret, baseURL: URL(string: "https://portal.example.com/files/")!)
    }

    /// Splits a link into the parts the portal's route handler gets.
    func parts(_ url: URL) throws -> (key: String, expires: String, filename: String?, signature: String) {
        let components = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false))
        let key = String(try #require(components.path.removingPercentEncoding).dropFirst("/files/".count))
        let items = components.queryItems ?? []
        return (key, try #require(items.first { $0.name == "expires" }?.value), items.first { $0.name == "filename" }?.value, try #require(items.first { $0.name == "signature" }?.value))
    }

    @Test func aFreshLinkVerifies() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let url = try signer.url(for: "tickets/12/log file+1.txt", expiresAt: now.addingTimeInterval(300), downloadFilename: "log file.txt")
        #expect(url.absoluteString.hasPrefix("https://portal.example.com/files/tickets/12/log%20file%2B1.txt?expires=1800000300&filename=log%20file.txt&signature="))
        let p = try parts(url)
        try signer.verify(key: p.key, expires: p.expires, filename: p.filename, signature: p.signature, now: now)
        // Another node with the same secret accepts it too.
        let other = try LocalDownloadLinkSigner(secret: Self.secret, baseURL: URL(string: "https://node-b.example.com/files")!)
        try other.verify(key: p.key, expires: p.expires, filename: p.filename, signature: p.signature, now: now)
    }

    @Test func tamperedOrExpiredLinksAreRefused() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let p = try parts(try signer.url(for: "a/b.pdf", expiresAt: now.addingTimeInterval(60)))
        let expired = #expect(throws: StorageError.self) { try signer.verify(key: p.key, expires: p.expires, filename: nil, signature: p.signature, now: now.addingTimeInterval(61)) }
        #expect(expired?.kind == .invalidLink)
        #expect(expired?.message.contains("expired") == true)
        #expect(throws: StorageError.self) { try signer.verify(key: "a/c.pdf", expires: p.expires, filename: nil, signature: p.signature, now: now) }
        #expect(throws: StorageError.self) { try signer.verify(key: p.key, expires: "1900000000", filename: nil, signature: p.signature, now: now) }
        #expect(throws: StorageError.self) { try signer.verify(key: p.key, expires: p.expires, filename: "x.exe", signature: p.signature, now: now) }
        let wrongSecret = try LocalDownloadLinkSigner(secret: String(repeating: "z", count: 40), baseURL: URL(string: "https://p/files")!)
        #expect(throws: StorageError.self) { try wrongSecret.verify(key: p.key, expires: p.expires, filename: nil, signature: p.signature, now: now) }
        #expect(throws: StorageError.self) { try LocalDownloadLinkSigner(secret: "short", baseURL: URL(string: "https://p/files")!) }
    }

    @Test func theBackendMakesLinksOnlyWhenConfigured() async throws {
        try await withTemporaryDirectory { root in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let storage = try LocalFileStorage(root: root, downloadLinks: signer, now: { now })
            let url = try await storage.downloadURL(key: "a/b.pdf", expiresIn: .seconds(600))
            #expect(url.absoluteString.contains("expires=1800000600"))
            let bare = try LocalFileStorage(root: root)
            let error = await #expect(throws: StorageError.self) { try await bare.downloadURL(key: "a/b.pdf", expiresIn: .seconds(600)) }
            #expect(error?.kind == .unsupported)
        }
    }
}
