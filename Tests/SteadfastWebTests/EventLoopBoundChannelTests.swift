import Hummingbird
import HummingbirdCore
import Logging
import NIOPosix
import SteadfastTestSupport
@testable import SteadfastWeb
import Testing

/// The node serves each HTTP connection on its own event loop (`EventLoopBoundChannel`): a
/// handler runs on an event loop thread, before and after it suspends, and so do the child tasks
/// it starts. Hummingbird's plain HTTP/1 server, the control, runs it elsewhere.
@Suite(.timeLimit(.minutes(1))) struct EventLoopBoundChannelTests {
    /// What a handler saw, as "loop" or "pool" at each step: at once, after a yield, in a child task.
    func sightings(server: HTTPServerBuilder) async throws -> String {
        let router = Router(context: PortalRequestContext.self)
        router.get("/where") { _, _ -> String in
            func place() -> String { MultiThreadedEventLoopGroup.currentEventLoop == nil ? "pool" : "loop" }
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
        #expect(try await sightings(server: .http1OnEventLoop()) == "loop,loop,loop loop,loop,loop")
        #expect(try await sightings(server: .http1()) == "pool,pool,pool pool,pool,pool")
    }
}
