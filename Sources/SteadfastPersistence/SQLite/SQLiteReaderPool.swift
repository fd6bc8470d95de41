import Synchronization

/// Read-only connections to one SQLite file, lent out one caller at a time.
///
/// In WAL mode readers never wait for the writer or each other, and each statement sees every
/// transaction committed before it started, so reads on these connections see the same data as
/// the writer connection would show. Connections are opened lazily, up to `capacity`; a caller
/// finding none free waits for one (first come, first served).
final class SQLiteReaderPool: Sendable {
    private struct State {
        var idle: [SQLiteConnectionHandle] = []
        var opened = 0
        var waiters: [CheckedContinuation<SQLiteConnectionHandle, Never>] = []
        var closed = false
    }

    private let path: String
    private let capacity: Int
    private let reprepares: SQLiteCounter
    private let state = Mutex(State())

    init(path: String, capacity: Int, reprepares: SQLiteCounter) {
        self.path = path
        self.reprepares = reprepares
        self.capacity = max(1, capacity)
    }

    /// Runs `body` with a connection no one else is using.
    func withConnection<T>(_ body: (SQLiteConnectionHandle) throws(DatabaseError) -> T) async throws(DatabaseError) -> T {
        let connection = try await checkOut()
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

    private enum CheckOut {
        case ready(SQLiteConnectionHandle)
        case open
        case wait
    }

    private func checkOut() async throws(DatabaseError) -> SQLiteConnectionHandle {
        let decision = state.withLock { state -> CheckOut in
            if let connection = state.idle.popLast() { return .ready(connection) }
            if state.opened < capacity {
                state.opened += 1
                return .open
            }
            return .wait
        }
        switch decision {
        case .ready(let connection):
            return connection
        case .open:
            do throws(DatabaseError) {
                let connection = try SQLiteConnectionHandle(path: path, reprepares: reprepares)
                _ = try connection.run("PRAGMA query_only=ON", [])
                _ = try connection.run("PRAGMA busy_timeout=5000", [])
                return connection
            } catch {
                state.withLock { $0.opened -= 1 }
                throw error
            }
        case .wait:
            return await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> SQLiteConnectionHandle? in
                    if let connection = state.idle.popLast() { return connection }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    private func checkIn(_ connection: SQLiteConnectionHandle) {
        let (waiter, closeIt) = state.withLock { state -> (CheckedContinuation<SQLiteConnectionHandle, Never>?, Bool) in
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), false) }
            if state.closed { return (nil, true) }
            state.idle.append(connection)
            return (nil, false)
        }
        if let waiter { waiter.resume(returning: connection) } else if closeIt { connection.close() }
    }
}
