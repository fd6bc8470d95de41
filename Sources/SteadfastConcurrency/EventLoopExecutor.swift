import NIOCore

/// An event loop as a task executor: a task that prefers it (`withTaskExecutorPreference`) runs
/// its jobs on the loop's thread, in the loop's own queue, as do the child tasks it starts.
///
/// What it is for: keeping a request on one thread. A node's HTTP connection is read and
/// written on its channel's event loop and a PostgreSQL connection on its own; work on Swift
/// Concurrency's shared pool crosses to the loop and back for every read, write and statement,
/// each crossing a thread wake-up and a context switch. Run on the loop (`EventLoopBoundChannel`
/// in SteadfastWeb, the PostgreSQL engine's lessors), a job enqueued from the loop itself is one
/// append to its queue. Measured on the invoice list: docs/billing.md, "A request on one thread".
///
/// Why a type of our own: SwiftNIO 2.101 makes event loops *serial* executors (for actors), not
/// task executors; a task executor is the one call below. Work on a loop must not block it: the
/// node's blocking work (bcrypt, disk files, SQLite writes) runs on thread pools.
///
/// Only for loops that outlive every task preferring them (the node's loops are NIO's singleton
/// group, which never shuts down): a job enqueued on a loop that has shut down is dropped by NIO,
/// and its task never resumes.
public final class EventLoopExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
