import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// The node's HTTP server (`PortalNode.httpServer`, `EventLoopBoundChannel`) runs a handler on
/// its connection's own event loop: at once, after it suspends, and in the child tasks it
/// starts. Hummingbird's plain HTTP/1 server, the control, runs it elsewhere.
@Suite(.timeLimit(.minutes(1))) struct EventLoopBoundChannelTests {
    /// A request context that keeps its connection's event loop.
    struct LoopContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let loop: any EventLoop

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            loop = source.channel.eventLoop
        }
    }

    /// Where a handler ran at each step, "own" (its connection's loop) or "elsewhere": at once,
    /// after a yield, in a child task; for two requests.
    func sightings(server: HTTPServerBuilder) async throws -> String {
        let router = Router(context: LoopContext.self)
        router.get("/where") { _, context -> String in
            let loop = context.loop
            func place() -> String { loop.inEventLoop ? "own" : "elsewhere" }
            var seen = [place()]
            await Task.yield()
            seen.append(place())
            seen.append(await withTaskGroup(of: String.self) { children in
                children.addTask { place() }
                return await children.next() ?? "none"
            })
            return seen.joined(separator: ",")
        }
        return try await withInProcessServer(router, server: server, logger: Logger(label: "event-loop-bound")) { client in
            let first = try await client.get("/where")
            let second = try await client.get("/where")
            #expect(first.status == 200 && second.status == 200)
            return first.body + " " + second.body
        }
    }

    @Test func theNodesServerRunsAHandlerOnItsConnectionsEventLoop() async throws {
        #expect(try await sightings(server: PortalNode.httpServer) == "own,own,own own,own,own")
        #expect(try await sightings(server: .http1()) == "elsewhere,elsewhere,elsewhere elsewhere,elsewhere,elsewhere")
    }
}
