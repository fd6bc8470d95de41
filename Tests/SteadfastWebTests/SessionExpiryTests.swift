import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// Idle and absolute session expiry, driven by a manual clock: the node's own router, in
/// process on a loopback port, over a migrated SQLite database. No real time passes, so the
/// bounds are exact instead of "a few hundred milliseconds either side" on a loaded machine.
@Suite(.timeLimit(.minutes(1))) struct SessionExpiryTests {
    static let password = "correct horse battery"

    static func withPortal<T: Sendable>(clock: ManualClock, _ body: @Sendable (HTTPTestClient, any SQLDatabase) async throws -> T) async throws -> T {
        try await withInProcessPortal(clock: clock, settings: ["session.idle_timeout": "2s", "session.absolute_timeout": "5s"], body)
    }

    @Test func idleAndAbsoluteExpiryFollowTheClock() async throws {
        let clock = ManualClock()
        try await Self.withPortal(clock: clock) { (client: HTTPTestClient, database: any SQLDatabase) async throws -> Void in
            #expect(try await client.postJSON("/api/v1/auth/register", ["email": "idle@example.com", "password": Self.password, "name": "I"]).status == 201)
            #expect(try await client.postJSON("/api/v1/auth/login", ["email": "idle@example.com", "password": Self.password]).status == 200)

            // Idle: unused for just under the idle timeout, the session lives; just over, it is gone.
            clock.advance(by: 1.9)
            #expect(try await client.get("/api/v1/me").status == 200)
            clock.advance(by: 2.1)
            #expect(try await client.get("/api/v1/me").status == 401)

            // Active: a request every 1.5 s keeps it past the idle timeout, until the absolute
            // timeout (5 s after log-in) ends it however active it is.
            #expect(try await client.postJSON("/api/v1/auth/login", ["email": "idle@example.com", "password": Self.password]).status == 200)
            for _ in 0..<3 {
                clock.advance(by: 1.5)
                #expect(try await client.get("/api/v1/me").status == 200) // 1.5, 3.0, 4.5 s after log-in
            }
            clock.advance(by: 0.6) // 5.1 s after log-in, 0.6 s after the last request
            #expect(try await client.get("/api/v1/me").status == 401)
        }
    }

    /// A local download link is dated and checked on the node's clock: it works until its
    /// expiry (300 s after it was made) and is refused just after, with no real time passing.
    @Test func downloadLinkExpiryFollowsTheClock() async throws {
        let clock = ManualClock()
        try await Self.withPortal(clock: clock) { (client: HTTPTestClient, database: any SQLDatabase) async throws -> Void in
            #expect(try await client.postJSON("/api/v1/auth/register", ["email": "link@example.com", "password": Self.password, "name": "L"]).status == 201)
            #expect(try await client.postJSON("/api/v1/auth/login", ["email": "link@example.com", "password": Self.password]).status == 200)
            let bytes: [UInt8] = Array("linked bytes".utf8)
            let uploaded = try await client.send("POST", "/api/v1/files", headers: ["Content-Type": "text/plain", "X-Upload-Filename": "note.txt"], body: bytes)
            #expect(uploaded.status == 201)
            let id = try #require(uploaded.json["id"] as? String)
            let link = try await client.get("/api/v1/files/\(id)/link")
            #expect(link.json["expires_at"] as? String == ISO8601DateFormatter().string(from: clock.now() + .seconds(300)))
            let url = try #require(link.json["url"] as? String)
            #expect(url.hasPrefix("/files/local/"))

            clock.advance(by: 299.5)
            let valid = try await client.get(url)
            #expect(valid.status == 200 && valid.bytes == bytes)
            clock.advance(by: 1)
            #expect(try await client.get(url).status == 403)
        }
    }

    /// A visitor's flash makes a visitor session dated by the node's clock.
    @Test func visitorFlashSessionIsDatedByTheClock() async throws {
        let clock = ManualClock()
        try await Self.withPortal(clock: clock) { (client: HTTPTestClient, database: any SQLDatabase) async throws -> Void in
            clock.advance(by: 42)
            let page = try await client.get("/password-reset")
            let token = try #require(NodeLiveTests.csrfToken(in: page.body))
            let sent = try await client.postForm("/password-reset", ["_csrf": token, "email": "nobody@example.com"])
            #expect(sent.status == 303)
            let rows = try await database.query("SELECT data FROM sessions WHERE data <> ''")
            #expect(rows.count == 1)
            let session = try JSONDecoder().decode(PortalSession.self, from: Data(try #require(rows.first).string("data").utf8))
            #expect(session.visitor == true)
            #expect(session.issuedAt == clock.now())
        }
    }
}
