import HummingbirdCore
import NIOCore
import SteadfastTestSupport
import Testing

/// A node hands each whole response (head, body and end) to its socket in one flushed write:
/// errors, pages, JSON, a redirect and a 404, through the node's own router. (A file download is
/// streamed, so it is written as it is read, in several.)
///
/// Why it matters: when a node is killed, the balancer retries an idempotent request on another
/// node only while it has passed nothing of the response on to the client. A response written
/// as a flushed head and then a flushed body can be cut between the two, after the balancer has
/// already sent the head on; the client then sees its connection closed mid-response. Any
/// middleware that wraps response bodies in a closure (as Hummingbird's `MetricsMiddleware`
/// does) brings that back, and this test fails.
@Suite(.timeLimit(.minutes(1))) struct ResponseWritesTests {
    /// What the server hands to its HTTP encoder, in order: each part written (head, body part or
    /// end) and each flush. It only passes the parts on, so their type does not matter here.
    final class WriteRecorder: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = Never

        let log: LockedBox<[String]>

        init(log: LockedBox<[String]>) {
            self.log = log
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            log.with { $0.append("write") }
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            log.with { $0.append("flush") }
            context.flush()
        }
    }

    @Test func answersOfEachShapeLeaveTheNodeInOneFlushedWrite() async throws {
        let log = LockedBox<[String]>([])
        try await withInProcessPortal(clock: ManualClock(), server: .http1OnEventLoop(configuration: .init(additionalChannelHandlers: [WriteRecorder(log: log)]))) { client, _ in
            /// Sends one request and returns what the server wrote for it.
            func writes(_ request: () async throws -> HTTPTestClient.Response) async throws -> (status: Int, writes: [String]) {
                log.with { $0 = [] }
                let response = try await request()
                return (response.status, log.value)
            }
            let password = "correct horse battery"
            // Head, body part and end, then one flush; a response without a body has no body part.
            let withBody = ["write", "write", "write", "flush"], withoutBody = ["write", "write", "flush"]
            let cases: [(String, (status: Int, writes: [String]), expected: [String])] = [
                ("an error thrown by a handler", try await writes { try await client.get("/api/v1/me") }, withBody),
                ("a page", try await writes { try await client.get("/login") }, withBody),
                ("a JSON answer", try await writes { try await client.postJSON("/api/v1/auth/register", ["email": "w@example.com", "password": password, "name": "W"]) }, withBody),
                ("a JSON answer that sets a cookie", try await writes { try await client.postJSON("/api/v1/auth/login", ["email": "w@example.com", "password": password]) }, withBody),
                ("a JSON answer of a session", try await writes { try await client.get("/api/v1/me") }, withBody),
                ("a redirect without a body", try await writes { try await client.get("/login") }, withoutBody),
                ("an unknown path", try await writes { try await client.get("/no/such/page") }, withBody),
            ]
            #expect(cases.map(\.1.status) == [401, 200, 201, 200, 200, 303, 404])
            for (name, result, expected) in cases {
                #expect(result.writes == expected, "\(name): \(result.writes)")
            }
        }
    }
}
