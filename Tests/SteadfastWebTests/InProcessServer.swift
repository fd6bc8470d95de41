import Hummingbird
import Logging
import SteadfastTestSupport
import SteadfastWeb

/// Serves `router` on a free loopback port for the length of `body`, which gets a client for
/// it; the server is a child task, stopped when `body` returns or throws.
func withInProcessServer<T: Sendable>(
    _ router: Router<PortalRequestContext>, logger: Logger, _ body: @Sendable (HTTPTestClient) async throws -> T
) async throws -> T {
    let (ports, port) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            port.yield(channel.localAddress?.port ?? 0)
            port.finish()
        },
        logger: logger
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await app.runService(gracefulShutdownSignals: [])
            return nil
        }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else { throw HarnessError("the in-process server did not start") }
        return try await body(HTTPTestClient(baseURL: "http://127.0.0.1:\(bound)"))
    }
}
