import SteadfastConcurrency
import Synchronization

/// Read-only connections to one SQLite file, lent out one caller at a time.
///
/// In WAL mode readers never wait for the writer or each other, and each statement sees every
/// transaction committed before it started, so reads on these connections see the same data as
/// the writer connection would show. Connections are opened lazily, up to `capacity`.
///
/// The shape: an ``AsyncSemaphore`` of `capacity` permits (SteadfastConcurrency) decides who may
/// hold a connection — a caller finding none free waits its turn, first come first served, and
/// leaves the queue with `CancellationError` if its task is cancelled meanwhile — and a `Mutex`
/// keeps the idle connections. A permit holder always finds an idle connection or room to open
/// one. When a connection is free this costs two uncontended `Mutex` sections and no allocation
/// (every page of the billing benchmark on SQLite reads through here).
final class SQLiteReaderPool: Sendable {
    private struct State {
        var idle: [SQLiteConnectionHandle] = []
        var closed = false
    }

    private let path: String
    private let reprepares: SQLiteCounter
    private let permits: AsyncSemaphore
    private let state = Mutex(State())

    init(path: String, capacity: Int, reprepares: SQLiteCounter) {
        self.path = path
        self.reprepares = reprepares
        permits = AsyncSemaphore(permits: capacity)
    }

    /// Runs `body` with a connection no one else is using. Throws `CancellationError`, before
    /// anything ran, if the task is cancelled while waiting for one.
    func withConnection<T>(_ body: (SQLiteConnectionHandle) throws(DatabaseError) -> T) async throws -> T {
        try await permits.acquire()
        let connection: SQLiteConnectionHandle
        do {
            connection = try checkOut()
        } catch {
            permits.release()
            throw error
        }
        defer { checkIn(connection) }
        return try body(connection)
    }

    /// Closes the idle connections; ones in use are closed when they come back.
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for connection in idle { connection.close() }
    }

    /// With a permit held: an idle connection, or a new one (the permits bound how many exist).
    private func checkOut() throws(DatabaseError) -> SQLiteConnectionHandle {
        if let connection = state.withLock({ $0.idle.popLast() }) { return connection }
        let connection = try SQLiteConnectionHandle(path: path, reprepares: reprepares)
        do throws(DatabaseError) {
            _ = try connection.run("PRAGMA query_only=ON", [])
            _ = try connection.run("PRAGMA busy_timeout=5000", [])
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Keeps the connection for the next caller (or closes it once the pool is closed), then
    /// gives the permit back.
    private func checkIn(_ connection: SQLiteConnectionHandle) {
        let closeIt = state.withLock { state -> Bool in
            if state.closed { return true }
            state.idle.append(connection)
            return false
        }
        if closeIt { connection.close() }
        permits.release()
    }
}
