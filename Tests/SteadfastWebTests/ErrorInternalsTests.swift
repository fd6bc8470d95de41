import Foundation
import Hummingbird
import Logging
import NIOCore
import SteadfastTestSupport
import SteadfastWeb
import Synchronization
import Testing

/// docs/security.md: "Errors never carry internals to clients ... Unexpected errors are logged
/// with the request id the client sees." A route fails with an error no middleware knows (the
/// 500 path), whose description holds a secret; the node's request-id and error middleware
/// (the ones `PortalRouter` installs) answer, in process, on a loopback port.
@Suite(.timeLimit(.minutes(1))) struct ErrorInternalsTests {
    static let secret = "pg-password-hunter2-5f3a"

    /// An unexpected error as a library might throw it: its description names internals.
    struct LeakyError: Error, CustomStringConvertible, CustomDebugStringConvertible {
        var description: String { "connection to postgres://steadfast:\(ErrorInternalsTests.secret)@db1.internal:5432 failed" }
        var debugDescription: String { "LeakyError(\(description))" }
    }

    /// Runs an application with the node's outer middleware and two failing routes; returns
    /// what `body` returns, and what was logged.
    static func withFailingApp<T: Sendable>(_ body: @Sendable (HTTPTestClient) async throws -> T) async throws -> (T, [CapturedLog]) {
        let router = Router(context: PortalRequestContext.self)
        router.middlewares.add(RequestLoggingMiddleware(forwarded: ForwardedHeaders(trustedProxies: []), maxBodySize: 1 << 20))
        router.middlewares.add(ErrorMiddleware(pages: try await PageRenderer.load()))
        router.get("api/v1/boom") { (_: Request, _: PortalRequestContext) async throws -> Response in throw LeakyError() }
        router.get("clientarea/boom") { (_: Request, _: PortalRequestContext) async throws -> Response in throw LeakyError() }

        let logs = LogCapture()
        let logger = Logger(label: "error-internals-test") { _ in CapturingLogHandler(capture: logs) }
        let result = try await withInProcessServer(router, logger: logger, body)
        return (result, logs.records)
    }

    @Test func anUnexpectedErrorIsA500WithTheRequestIDAndNoInternals() async throws {
        let ((json, html), logs) = try await Self.withFailingApp { client in
            (try await client.get("/api/v1/boom"), try await client.get("/clientarea/boom"))
        }

        // JSON under /api/.
        #expect(json.status == 500)
        #expect(json.header("Content-Type")?.hasPrefix("application/json") == true)
        let jsonID = try #require(json.header("X-Request-ID"))
        #expect(json.json["request_id"] as? String == jsonID, "\(json.body)")
        #expect((json.json["error"] as? [String: Any])?["code"] as? String == "internal_error", "\(json.body)")
        // HTML elsewhere, quoting the request id.
        #expect(html.status == 500)
        #expect(html.header("Content-Type")?.hasPrefix("text/html") == true)
        let htmlID = try #require(html.header("X-Request-ID"))
        #expect(html.body.contains(htmlID), "the error page does not quote the request id \(htmlID)")
        #expect(html.header("X-Frame-Options") == "DENY" && html.header("Cache-Control")?.contains("no-store") == true)
        #expect(html.header("X-Content-Type-Options") == "nosniff")
        #expect(html.header("Content-Security-Policy")?.isEmpty == false)

        for (answer, what) in [(json, "JSON"), (html, "HTML")] {
            for leak in [Self.secret, "db1.internal", "LeakyError", "postgres://"] {
                #expect(!answer.body.contains(leak), "the \(what) answer carries \"\(leak)\": \(answer.body)")
                #expect(!answer.headers.contains { $0.value.contains(leak) }, "a \(what) header carries \"\(leak)\"")
            }
        }

        // The error itself is logged, with the request id the client saw.
        for id in [jsonID, htmlID] {
            let logged = logs.filter { $0.metadata["steadfast.request.id"] == id && $0.message == "unhandled error" }
            #expect(logged.count == 1, "no \"unhandled error\" log line with request id \(id): \(logs.map(\.message))")
            #expect(logged.first?.metadata["error"]?.contains(Self.secret) == true, "the log line does not say what failed")
        }
    }
}
