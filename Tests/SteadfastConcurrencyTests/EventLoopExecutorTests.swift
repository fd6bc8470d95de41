import NIOCore
import NIOPosix
import SteadfastConcurrency
import Testing

/// A task that prefers an ``EventLoopExecutor`` runs on that event loop's thread: at once, after
/// a suspension that another thread ends, and in the child tasks it starts; a task without the
/// preference does not.
@Suite(.timeLimit(.minutes(1))) struct EventLoopExecutorTests {
    @Test func aTaskPreferringTheExecutorRunsOnItsLoopThroughoutAndSoDoItsChildren() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let (loop, other) = (group.next(), group.next())
        #expect(loop !== other, "two distinct loops")
        let sightings = await withTaskExecutorPreference(EventLoopExecutor(loop)) {
            var seen = [loop.inEventLoop]
            // A suspension ended on the other loop's thread: the task comes back to its own loop.
            let promise = other.makePromise(of: Void.self)
            other.scheduleTask(in: .milliseconds(1)) { promise.succeed() }
            try? await promise.futureResult.get()
            seen.append(loop.inEventLoop)
            await withTaskGroup(of: Bool.self) { children in
                for _ in 0..<3 { children.addTask { loop.inEventLoop } }
                for await onLoop in children { seen.append(onLoop) }
            }
            return seen
        }
        #expect(sightings == [true, true, true, true, true])
        // The control: the same check, without the preference, is not on the loop.
        #expect(!loop.inEventLoop)
        try await group.shutdownGracefully()
    }
}
