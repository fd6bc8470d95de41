import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Synchronization

/// Hashes and checks passwords with bcrypt on a thread pool of its own (a cost-12 hash takes
/// about a quarter of a second of CPU), with a bounded queue.
///
/// Not on NIO's shared thread pool: that pool also runs the SQLite writer and local file I/O,
/// so a flood of log-ins there turned every database write into a 503. Here a flood queues up
/// to ``maximumWaiting`` checks; past that a check fails at once with ``Busy`` (503 with
/// `Retry-After`) instead of waiting behind minutes of work. The pool is one thread per two
/// cores (at least one), so hashing never takes every core from the event loops.
public struct PasswordHasher: Sendable {
    /// The hasher is saturated: try again shortly.
    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var description: String { "too many password checks are waiting; try again in a moment" }
    }

    /// bcrypt work factor (4-31).
    public let cost: UInt8
    let executor: BcryptExecutor

    /// The process-wide executor every hasher shares by default.
    static let shared = BcryptExecutor(threads: max(1, System.coreCount / 2), maximumWaiting: 64)

    public init(cost: Int) {
        self.init(cost: cost, executor: Self.shared)
    }

    init(cost: Int, executor: BcryptExecutor) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4-31")
        self.cost = UInt8(cost)
        self.executor = executor
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await executor.run { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await executor.run { Bcrypt.verify(password, hash: hash) }
    }
}

/// A thread pool for bcrypt that admits at most `maximumWaiting` jobs at a time (running or
/// queued). Its own pool because NIO's singleton pool serves database and file I/O; a counter
/// because NIOThreadPool's queue is unbounded.
final class BcryptExecutor: Sendable {
    let pool: NIOThreadPool
    let maximumWaiting: Int
    private let admitted = Atomic<Int>(0)

    /// Started at once and never shut down: like NIO's singleton pool, it lives as long as the process.
    init(threads: Int, maximumWaiting: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        self.maximumWaiting = maximumWaiting
    }

    /// Jobs admitted and not yet finished.
    var inFlight: Int { admitted.load(ordering: .relaxed) }

    func run<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
        let (_, admittedNow) = admitted.add(1, ordering: .relaxed)
        defer { admitted.subtract(1, ordering: .relaxed) }
        guard admittedNow <= maximumWaiting else { throw PasswordHasher.Busy() }
        return try await pool.runIfActive(work)
    }
}
